"""One `prometheus-redis-exporter` per database (Debian package), scraping the database's endpoint.

Started, stopped and adopted with the database, like its HAProxy: a pid file plus a cmdline check
tells our process from a reused pid. The password reaches the exporter through its environment
(`REDIS_PASSWORD`, readable only by our user in /proc), never its command line. It listens on
127.0.0.1 on a port from the `exporter` range.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from core.errors import TargetError
from core.paths import file_in
from targets.private_files import PRIVATE_UMASK, open_private, private_dir, write_private

from . import processes
from .ports import is_listening
from .tls import TlsFiles

PACKAGE = "prometheus-redis-exporter"


def binary() -> str | None:
    return shutil.which(PACKAGE) or (f"/usr/bin/{PACKAGE}" if Path(f"/usr/bin/{PACKAGE}").exists() else None)


class Exporter:
    """The exporter of one database, with its files in `directory`, serving http://127.0.0.1:`port`/metrics."""

    pid_file = file_in("directory", "exporter.pid")
    auth_file = file_in("directory", "exporter.auth")  # a digest of the password it runs with (0600)

    def __init__(self, directory: Path, port: int, redis_port: int = 0, tls: TlsFiles | None = None):
        self.directory = directory
        self.port = port
        self.redis_port = redis_port
        self.tls = tls  # a TLS database: scrape over TLS, like the control plane's own checks

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def args(self) -> list[str]:
        scheme = "rediss" if self.tls else "redis"
        tls = ["-tls-ca-cert-file", str(self.tls.ca_file), "-tls-client-cert-file", str(self.tls.cert_file),
               "-tls-client-key-file", str(self.tls.key_file)] if self.tls else []
        return [binary() or PACKAGE, "-redis.addr", f"{scheme}://127.0.0.1:{self.redis_port}", *tls,
                "-web.listen-address", f"127.0.0.1:{self.port}", "-include-system-metrics=false"]

    def _running(self) -> tuple[int, list[bytes]] | None:
        """Our exporter's pid and arguments: the pid file's process, if it is an exporter on our port."""
        found = processes.helper_running(self.pid_file, lambda arguments: PACKAGE.encode() in arguments[0]
                                         and f"127.0.0.1:{self.port}".encode() in arguments)
        return (found[0], found[1][1:]) if found else None

    def running_pid(self) -> int | None:
        running = self._running()
        return running[0] if running else None

    def ensure(self, password: str, username: str | None = None) -> str:
        """Start the exporter unless ours already runs with this password; "started" or "". The exporter
        reads the password once, so a changed one restarts it (a digest of it is kept, 0600, to notice)."""
        digest = hashlib.sha256(f"{username or ''}\0{password}".encode()).hexdigest()
        current = self.auth_file.read_text() if self.auth_file.exists() else ""
        running = self._running()
        if running:
            if current == digest and running[1] == [a.encode() for a in self.args()[1:]]:
                return ""
            self.stop()  # another password or another endpoint port
        if binary() is None:
            raise TargetError(f"{PACKAGE} is not installed (apt-get install {PACKAGE})")
        if is_listening(self.port):
            raise TargetError(f"exporter port {self.port} is taken by another program")
        private_dir(self.directory)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REDIS_PASSWORD": password,
               **({"REDIS_USER": username} if username else {})}
        with open_private(self.directory / "exporter.log", "a") as log:
            proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    start_new_session=True, umask=PRIVATE_UMASK)
        write_private(self.pid_file, f"{proc.pid}\n")
        write_private(self.auth_file, digest)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if is_listening(self.port):
                return "started"
            if proc.poll() is not None:
                raise TargetError(f"{PACKAGE} on port {self.port} exited with {proc.returncode}")
            time.sleep(0.05)
        raise TargetError(f"{PACKAGE} does not listen on {self.port}")

    def stop(self) -> bool:
        return processes.stop_helper(self.running_pid(), self.pid_file)
