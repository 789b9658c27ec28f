"""Starting, stopping and adopting redis-server / redis-sentinel processes.

Processes daemonize and write their own pid file, so they outlive the worker that started them.
A process is "ours and running" when its pid file names a live redis process and `INFO server`
on its port reports that same pid: that is how a restarted control plane adopts what is running
instead of starting a duplicate.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.errors import TargetError
from targets.private_files import PRIVATE_UMASK, write_private

from .layout import Process
from .ports import is_bindable
from .tls import TlsFiles

CONNECT_TIMEOUT = 1.0
COMMAND_TIMEOUT = 5.0
TERM_REPEAT = 1.0  # seconds between the SIGTERMs `stop` sends


def client(port: int, password: str | None = None, *, timeout: float = COMMAND_TIMEOUT,
           username: str | None = None, tls: TlsFiles | None = None) -> redis.Redis:
    """A connection that fails fast: no retries (a wrong password must not be retried with backoff).
    `username`: an ACL user (the control plane's own where the default user is off), else the default user.
    With `tls`, over TLS (a TLS database's endpoint): the server verified against the cluster CA, and the
    database's own certificate shown as the client's (mutual TLS accepts the cluster CA too)."""
    tls = {"ssl": True, "ssl_ca_certs": str(tls.ca_file), "ssl_certfile": str(tls.cert_file),
           "ssl_keyfile": str(tls.key_file)} if tls else {}
    return redis.Redis(host="127.0.0.1", port=port, username=username, password=password or None,
                       socket_timeout=timeout,
                       socket_connect_timeout=CONNECT_TIMEOUT, decode_responses=True,
                       retry=Retry(NoBackoff(), 0), **tls)


def read_pid(process: Process) -> int | None:
    try:
        return int(process.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_exited(pid: int) -> bool:
    """The pid is gone or a zombie: it has exited (its ports are free) even if its parent has not reaped it yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def pid_is_redis(pid: int) -> bool:
    """The pid is alive and is a redis or valkey program (guards against a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return not pid_exited(pid) and (b"redis" in cmdline or b"valkey" in cmdline)


def running_pid(process: Process) -> int | None:
    """The pid of the process if it runs: the pid file names a live redis whose title shows our port
    (after a reboot a stale pid file may name some other program, or another redis)."""
    pid = read_pid(process)
    if not pid or not pid_is_redis(pid):
        return None
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if f":{process.port}".encode() in title else None


def configured_password(process: Process) -> str | None:
    """The requirepass in the process's config file (the password it runs with, even mid-rotation)."""
    return configured_value(process, "requirepass")


def configured_value(process: Process, key: str) -> str | None:
    """A setting as the process's config file has it (what it runs with, as Redis rewrites the file)."""
    try:
        text = process.config_file.read_text()
    except OSError:
        return None
    match = re.search(rf'^{re.escape(key)}\s+"?(.*?)"?\s*$', text, re.MULTILINE)
    return match.group(1) if match else None


def server_info(process: Process, logins: list[tuple[str | None, str | None]]) -> dict | None:
    """`INFO` of the process if it is ours and answering, trying each (username, password) in turn; the
    one that worked is kept as `_username`, `_password`."""
    pid = running_pid(process)
    if pid is None:
        return None
    for username, password in dict.fromkeys(logins):
        try:
            info = client(process.port, password, username=username).info()
        except redis.AuthenticationError:
            continue
        except redis.ResponseError as exc:
            if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
                continue
            return None
        except redis.RedisError:
            return None
        if int(info.get("process_id", -1)) != pid:
            return None  # something else answers on our port
        info["_password"], info["_username"] = password, username
        return info
    return None


def read_state(process: Process) -> dict:
    try:
        return json.loads(process.state_file.read_text())
    except (OSError, ValueError):
        return {}


def write_state(process: Process, **values) -> None:
    state = read_state(process)
    state.update(values)
    write_private(process.state_file, json.dumps(state, sort_keys=True))


def write_config(process: Process, text: str) -> None:
    write_private(process.config_file, text)


class PortTaken(TargetError):
    """Another program listens on the process's port (it was free when the port was handed out)."""


def start(process: Process, binary: Path, *, password: str | None = None, extra_args: list[str] | None = None,
          timeout: float = 15.0, username: str | None = None) -> int:
    """Start the process from its config file and wait until it answers PING; returns its pid."""
    if running_pid(process):
        raise TargetError(f"{process.name} is already running")
    if not is_bindable(process.port):
        raise PortTaken(f"port {process.port} of {process.name} is taken by another program; "
                        "a new port is chosen on the next reconcile")
    with contextlib.suppress(FileNotFoundError):
        process.pid_file.unlink()
    args = [str(binary), str(process.config_file), *(extra_args or [])]
    # The umask stays with the daemon: its CONFIG REWRITE, RDB/AOF and log files are private too.
    result = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=30, start_new_session=True, umask=PRIVATE_UMASK)
    if result.returncode != 0:
        raise TargetError(f"{process.name} did not start: {result.stdout.strip()[-500:] or result.returncode}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = running_pid(process)
        if pid:
            try:
                if client(process.port, password, timeout=1, username=username).ping():
                    return pid
            except redis.BusyLoadingError:
                return pid  # loading its data set: alive, and it will answer soon
            except redis.RedisError:
                pass
        time.sleep(0.05)
    raise TargetError(f"{process.name} did not answer on port {process.port} within {timeout:.0f}s: "
                      f"{log_tail(process)}")


def stop(process: Process, *, timeout: float = 10.0) -> bool:
    """Stop the process (SIGTERM, then SIGKILL); True if one was running.

    SIGTERM is sent again every TERM_REPEAT seconds: Redis refuses one that arrives while it writes its first
    AOF file (a replica just after its full sync: "Writing initial AOF, can't exit") and never retries by
    itself, so a single SIGTERM would end in the SIGKILL. A repeated one changes nothing once a shutdown runs."""
    pid = running_pid(process)
    if pid is None:
        return False
    deadline = time.monotonic() + timeout
    next_term = time.monotonic()
    while time.monotonic() < deadline and pid_is_redis(pid):
        if time.monotonic() >= next_term:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            next_term = time.monotonic() + TERM_REPEAT
        time.sleep(0.05)
    if pid_is_redis(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    return True


def helper_running(pid_file: Path, ours: Callable[[list[bytes]], bool]) -> tuple[int, list[bytes]] | None:
    """The pid and arguments of a helper process (HAProxy, exporter) its pid file names, if `ours(arguments)`
    says it is ours (a pid reused by another program is not)."""
    try:
        pid = int(pid_file.read_text().split()[0])
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    return (pid, arguments) if ours(arguments) else None


def stop_helper(pid: int | None, *leftovers: Path) -> bool:
    """Stop a helper process if one runs and remove the files it leaves behind; True if one was running."""
    if pid is None:
        return False
    terminate_pid(pid)
    for path in leftovers:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return True


def terminate_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM a helper process (HAProxy, exporter) and wait until it is gone, reaping it if it is our child."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if pid_exited(pid):  # a zombie another parent reaps late is gone too (HAProxy's master exits this way)
            return
        time.sleep(0.05)


def log_tail(process: Process, lines: int = 3) -> str:
    try:
        return " | ".join(process.log_file.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "no log"
