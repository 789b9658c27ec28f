"""The stable endpoint of a database: one HAProxy whose `role:master` health check routes
`127.0.0.1:<databasePort>` to whichever shard process is master right now.

HAProxy only follows the master; it never picks one (the sentinels do). A runtime socket lets a
planned switchover drain the old master before the sentinels move the role.
"""
from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from core.errors import TargetError
from core.paths import file_in
from targets.private_files import PRIVATE_UMASK, write_private

from . import processes
from .layout import ShardProcess
from .ports import is_listening

BACKEND = "shards"
CHECK = "check inter 300ms fastinter 200ms downinter 500ms fall 1 rise 1 on-marked-down shutdown-sessions"


def binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not found:
        raise TargetError("haproxy is not installed (apt-get install haproxy)")
    return found


def _resp_hex(*words: str) -> str:
    """A Redis command in RESP form, hex-encoded for `tcp-check send-binary` (no quoting pitfalls)."""
    raw = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    return raw.encode().hex()


class Endpoint:
    """The HAProxy of one database, with its files in `directory`."""

    config_file = file_in("directory", "haproxy.cfg")
    pid_file = file_in("directory", "haproxy.pid")
    state_file = file_in("directory", "servers.state")

    def __init__(self, directory: Path, port: int):
        self.directory = directory
        self.port = port

    def write_all_down_state(self, processes: list[ShardProcess]) -> None:
        """Servers start DOWN until their first check passes (HAProxy would otherwise start them UP and
        route a new connection to a replica for the first check interval)."""
        header = ("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
                  "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
                  "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
                  "srv_check_port srv_check_addr srv_agent_addr srv_agent_port")
        lines = [f"3 {BACKEND} {i} {p.name} 127.0.0.1 0 0 1 1 0 1 0 0 6 0 0 0 - {p.client_port} - 0 "
                 f"{p.port if p.tls_port else 0} - - 0"
                 for i, p in enumerate(processes, start=1)]
        write_private(self.state_file, "\n".join(["1", header, *lines]) + "\n")

    @property
    def socket_path(self) -> Path:
        path = self.directory / "haproxy.sock"
        if len(str(path)) < 100:
            return path
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:16]  # unix socket paths are short
        return Path(tempfile.gettempdir()) / f"cp-haproxy-{digest}.sock"

    def render(self, processes: list[ShardProcess], password: str, username: str | None = None) -> str:
        auth = ("AUTH", username, password) if username else ("AUTH", password)
        # Clients go to the TLS port when there is one (HAProxy passes TLS through untouched, mode tcp); the
        # role check always asks the plain loopback port, which needs the password.
        servers = [f"    server {p.name} 127.0.0.1:{p.client_port} {CHECK}" + (f" port {p.port}" if p.tls_port else "")
                   for p in processes]
        return "\n".join([
            "# Written by the control plane: the stable endpoint of one database.",
            "global",
            "    daemon",
            f"    server-state-file {self.state_file}",
            "    nbthread 1",
            "    tune.maxaccept 64",
            "    maxconn 4000",
            f"    pidfile {self.pid_file}",
            f"    stats socket {self.socket_path} mode 600 level admin",
            "defaults",
            "    mode tcp",
            "    option splice-auto",
            "    load-server-state-from-file global",
            "    timeout connect 2s",
            "    timeout client 24h",
            "    timeout server 24h",
            "    timeout check 1s",
            "frontend endpoint",
            f"    bind 127.0.0.1:{self.port}",
            f"    default_backend {BACKEND}",
            f"backend {BACKEND}",
            "    option tcp-check",
            "    tcp-check connect",
            f"    tcp-check send-binary {_resp_hex(*auth)}",
            "    tcp-check expect string +OK",
            # INFO and QUIT in one write: the server closes right after its answer, so a replica fails the
            # check at once instead of after `timeout check`.
            f"    tcp-check send-binary {_resp_hex('INFO', 'replication')}{_resp_hex('QUIT')}",
            "    tcp-check expect string role:master",
            *servers,
        ]) + "\n"

    def running_pid(self) -> int | None:
        found = processes.helper_running(self.pid_file, lambda arguments: b"haproxy" in arguments[0]
                                         and str(self.config_file).encode() in arguments)  # ours, not a reused pid
        return found[0] if found else None

    def ensure(self, processes: list[ShardProcess], password: str, username: str | None = None) -> str:
        """Start or reload HAProxy so it serves the current config; returns "started", "reloaded" or ""."""
        text = self.render(processes, password, username)
        current = self.config_file.read_text() if self.config_file.exists() else None
        pid = self.running_pid()
        if pid and current == text:
            return ""
        write_private(self.config_file, text)
        if pid is None and is_listening(self.port):
            raise TargetError(f"port {self.port} is taken by another program; choose another databasePort")
        self.write_all_down_state(processes)
        args = [binary(), "-f", str(self.config_file), "-D", "-p", str(self.pid_file)]
        if pid:
            args += ["-sf", str(pid)]
        result = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                                start_new_session=True, umask=PRIVATE_UMASK)
        if result.returncode != 0:
            raise TargetError(f"haproxy for port {self.port} did not start: {(result.stderr or '').strip()[-400:]}")
        self._wait_listening()
        return "reloaded" if pid else "started"

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if is_listening(self.port):
                return
            time.sleep(0.05)
        raise TargetError(f"haproxy does not listen on {self.port}")

    def stop(self) -> bool:
        return processes.stop_helper(self.running_pid(), self.socket_path)

    def command(self, line: str) -> str:
        """One command on HAProxy's runtime socket."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                sock.connect(str(self.socket_path))
                sock.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise TargetError(f"haproxy runtime socket of port {self.port}: {exc}") from exc
        return b"".join(chunks).decode(errors="replace")

    def drain(self, server: str) -> None:
        """Stop routing new connections to `server` and cut its client sessions (before a switchover).
        Drain, not maintenance: its health checks go on, so once it is a replica it is already DOWN
        when it is made ready again."""
        self.command(f"set server {BACKEND}/{server} state drain")
        self.command(f"shutdown sessions server {BACKEND}/{server}")

    def undrain(self, server: str) -> None:
        self.command(f"set server {BACKEND}/{server} state ready")
