"""Small helpers for talking to what the local target started."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import redis


def endpoint_port(database) -> int:
    return int(database.status["endpoint"].rsplit(":", 1)[1])


def endpoint(database, password: str | None = None, **kwargs) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=endpoint_port(database), password=password or database.password,
                       socket_timeout=2, socket_connect_timeout=1, decode_responses=True, **kwargs)


def process_port(database, name: str) -> int:
    return int(database.status["processes"][name]["port"])


def direct(database, name: str) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=process_port(database, name), password=database.password,
                       socket_timeout=2, decode_responses=True)


def master_name(database) -> str:
    return database.status["master"]


def pid_of(client: redis.Redis) -> int:
    return int(client.info("server")["process_id"])


def kill9(client: redis.Redis) -> int:
    pid = pid_of(client)
    os.kill(pid, signal.SIGKILL)
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]:
        time.sleep(0.01)
    return pid


def stop_everything(root: Path) -> None:
    """A clean machine shutdown: SIGTERM every redis and haproxy process under `root`, wait for them."""
    pids = []
    for pid_file in root.rglob("*.pid"):
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
            pids.append(pid)
        except (OSError, ValueError):
            pass
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except (redis.RedisError, redis.exceptions.RedisClusterException):  # the latter is not a RedisError
            pass
        time.sleep(interval)
    return None
