"""A live control plane for browser tests: Daphne (ASGI) in a subprocess, a file-based SQLite, its own Redis.

Reconciliation is real but stepped by the test (`reconcile`: `manage.py reconcile` against the same
database, with the local target starting real redis-server / redis-sentinel / haproxy processes), so
a test can open a page first and then watch the state change on it. The stack's `manage.py` commands run in
one process started with the stack (tests/browser/manage_server.py), not one Python start-up each.
Everything the stack started, including local-target processes found by their pid files, is stopped on close.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from tests.servers import free_port, redis_server, wait_for_port

BASE_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent

# Port ranges of the local target in this stack, away from the defaults other test areas use.
PORT_RANGES = {"CP_SENTINEL_PORT_MIN": "26900", "CP_SENTINEL_PORT_MAX": "26999",
               "CP_SHARD_PORT_MIN": "17900", "CP_SHARD_PORT_MAX": "17999",
               "CP_DB_PORT_MIN": "12900", "CP_DB_PORT_MAX": "12999",
               "CP_EXPORTER_PORT_MIN": "19900", "CP_EXPORTER_PORT_MAX": "19999"}

MIGRATE = """
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
"""
SEED = """
from django.contrib.auth import get_user_model
from accounts.models import Team
User = get_user_model()
User.objects.create_user("ops", password="ops-password-1", is_staff=True)
for team_name, user_name in (("payments", "alice"), ("search", "bob")):
    user = User.objects.create_user(user_name, password=f"{user_name}-password-1")
    Team.objects.create(name=team_name).members.add(user)
"""


class LiveStack:
    def __init__(self, root: Path, **env_overrides: str):
        self.root = root
        self.env_overrides = env_overrides
        self.var_dir = root / "var"
        self.database_file = root / "controlplane.sqlite3"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._exit = ExitStack()
        self._web: subprocess.Popen | None = None
        self._commands: subprocess.Popen | None = None
        self._socket_dir = Path(tempfile.mkdtemp(prefix="cp-manage-"))  # short: a socket path has 107 bytes at most
        self._socket = self._socket_dir / "manage.sock"
        self.env: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> LiveStack:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        redis_url = self._exit.enter_context(redis_server())
        self.env = {
            **os.environ,
            **PORT_RANGES,
            "DJANGO_SETTINGS_MODULE": "tests.browser.stack_settings",
            "DATABASE_URL": f"sqlite:///{self.database_file}",
            "REDIS_URL": redis_url,
            "CONTROLPLANE_VAR_DIR": str(self.var_dir),
            "CONTROLPLANE_RECONCILE_MODE": "manual",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": str(BASE_DIR),
            "CONTROLPLANE_LOG_LEVEL": "WARNING",
            **self.env_overrides,
        }
        self.start_commands()
        self.manage("shell", "-c", MIGRATE + SEED)
        self.start_web()
        return self

    def start_commands(self) -> None:
        """The stack's `manage.py`, started once (tests/browser/manage_server.py): each command after that
        runs without a new Python start-up."""
        log = open(self.root / "manage.log", "ab")
        self._commands = subprocess.Popen([sys.executable, "-m", "tests.browser.manage_server", str(self._socket)],
                                          cwd=BASE_DIR, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while not self._socket.exists():
            if self._commands.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"manage.py server did not start:\n{self.manage_log()}")
            time.sleep(0.05)

    def start_web(self) -> None:
        log = open(self.root / "web.log", "ab")
        self._web = subprocess.Popen(
            [str(BIN_DIR / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), "controlplane.asgi:application"],
            cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_port(self.port, timeout=30)

    def stop_web(self) -> None:
        stop_child(self._web)
        self._web = None

    def close(self) -> None:
        self.stop_web()
        stop_child(self._commands)
        self._commands = None
        shutil.rmtree(self._socket_dir, ignore_errors=True)
        kill_processes_under(self.var_dir)
        self._exit.close()

    # -- driving it --------------------------------------------------------------------------------
    def manage(self, *args: str, timeout: float = 120) -> str:
        """`manage.py *args` in the stack's environment; its standard output (AssertionError when it fails)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(str(self._socket))
            connection.sendall(json.dumps(list(args)).encode())
            connection.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        if not chunks:
            raise AssertionError(f"manage.py {' '.join(args[:2])}: the server went away:\n{self.manage_log()}")
        result = json.loads(b"".join(chunks))
        if result["code"] != 0:
            raise AssertionError(f"manage.py {' '.join(args[:2])} failed:\n{result['stdout']}\n{result['stderr']}")
        return result["stdout"]

    def manage_log(self) -> str:
        path = self.root / "manage.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def reconcile(self, name: str, kind: str, *, wait: bool = True) -> str:
        """One real reconcile of `name` (rec|redb), or until it settles."""
        return self.manage("reconcile", name, "--kind", kind, *(["--wait", "--timeout", "90"] if wait else []))

    def query(self, sql: str, *params) -> list[tuple]:
        """Read the stack's database directly (what the Secret holds, what was saved)."""
        with contextlib.closing(sqlite3.connect(self.database_file, timeout=30)) as connection:
            return connection.execute(sql, params).fetchall()

    def web_log(self) -> str:
        return (self.root / "web.log").read_text(errors="replace")


def kill_processes_under(root: Path) -> None:
    """SIGKILL what the local target started under `root` (by its pid files), so nothing outlives the test."""
    for pid_file in root.rglob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().split()[0])
            if any(name in Path(f"/proc/{pid}/cmdline").read_bytes() for name in (b"redis", b"valkey", b"haproxy")):
                os.kill(pid, signal.SIGKILL)


def live_processes_under(root: Path) -> list[int]:
    pids = []
    for pid_file in root.rglob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().split()[0])
            if Path(f"/proc/{pid}").exists():
                pids.append(pid)
    return pids


def wait_until(predicate, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout}s")


def stop_child(process: subprocess.Popen | None) -> None:
    """SIGTERM a child, SIGKILL it after 10 s, and reap it."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
