"""A private PostgreSQL cluster in a folder, from Debian's `postgresql` binaries.

`make run-prod` keeps its database in var-postgres/ (next to var/); the PostgreSQL tests start a throwaway one in
a temp dir. PostgreSQL refuses to run as root, so as root the data folder belongs to the `postgres`
user and the server runs as that user. It listens on 127.0.0.1 only, with a password (scram-sha-256).
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from core.paths import file_in


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def server_bindir() -> Path:
    """The newest /usr/lib/postgresql/<v>/bin holding initdb and pg_ctl."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if not candidates:
        raise PostgresUnavailable("PostgreSQL server binaries not found (Debian package `postgresql`): "
                                  "run scripts/install-system-deps.sh --postgres")
    return Path(candidates[-1]).parent


@dataclass
class LocalPostgres:
    """One cluster: data in `root/data`, socket and log in `root`, password in `root/password` (0600)."""

    root: Path
    port: int
    user: str = "controlplane"
    database: str = "controlplane"

    data_dir = file_in("root", "data")
    password_file = file_in("root", "password")
    log_file = file_in("root", "postgres.log")

    @property
    def url(self) -> str:
        """DATABASE_URL without the password (it travels in DATABASE_PASSWORD, never in a command line)."""
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def env(self) -> dict[str, str]:
        """What a Django process needs to reach this cluster."""
        return {"DATABASE_URL": self.url, "DATABASE_PASSWORD": self.password}

    # -- lifecycle ---------------------------------------------------------------------------------
    def _runas(self) -> dict:
        """Popen arguments that run a server binary as `postgres` when we are root."""
        if os.geteuid() != 0:
            return {}
        entry = pwd.getpwnam("postgres")
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(server_bindir() / args[0]), *args[1:]], capture_output=True, text=True,
                              check=check, cwd="/", timeout=120, **self._runas())

    def initialise(self) -> None:
        """initdb once, with a generated password for the `controlplane` superuser of this cluster."""
        server_bindir()  # fail early and clearly when the binaries are missing
        self.root.mkdir(parents=True, exist_ok=True)
        self._own(self.root)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
            self.password_file.chmod(0o600)
        if (self.data_dir / "PG_VERSION").exists():
            return
        # initdb reads the password from a file the server user can read; it is removed right after.
        pwfile = self.root / ".initdb-password"
        pwfile.write_text(self.password)
        pwfile.chmod(0o600)
        self._own(pwfile)
        try:
            self._run("initdb", "-D", str(self.data_dir), "-U", self.user, f"--pwfile={pwfile}",
                      "--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions")
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed: {exc.stderr.strip()}") from None
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        """Start the server (waits until it accepts connections) and create the database once."""
        self.initialise()
        deadline = time.monotonic() + 30
        while self.running():  # a previous stack still shutting down: give it a moment
            if time.monotonic() > deadline:
                raise RuntimeError(f"a PostgreSQL server already runs on {self.data_dir}; stop the stack that "
                                   "started it first")
            time.sleep(1)
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                   "-c fsync=on -c shared_buffers=64MB")
        self.log_file.touch()
        self._own(self.log_file)
        result = self._run("pg_ctl", "start", "-D", str(self.data_dir), "-w", "-t", "60", "-l", str(self.log_file),
                           "-o", options, check=False)
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()}\n{tail}")
        self._create_database()

    def _create_database(self) -> None:
        psql = shutil.which("psql") or str(server_bindir() / "psql")
        env = {**os.environ, "PGPASSWORD": self.password}
        target = ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]
        exists = subprocess.run([psql, *target, "-d", "postgres", "-tAc",
                                 f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"],
                                capture_output=True, text=True, env=env, timeout=30, check=True).stdout.strip()
        if exists != "1":
            subprocess.run([psql, *target, "-d", "postgres", "-c", f'CREATE DATABASE "{self.database}"'],
                           capture_output=True, text=True, env=env, timeout=30, check=True)

    def running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", check=False)
