"""Port allocation for the local target, from the ranges in settings.CONTROLPLANE_LOCAL_PORTS.

Allocations are remembered per target in `<var>/<target>/ports.json` (guarded by a file lock) so
a process keeps its port across restarts of itself and of the control plane, and a new allocation
never takes a port that is remembered or that something on this machine is listening on.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

from core.errors import TargetError
from targets.private_files import open_private, write_private


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def is_bindable(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on the port now. SO_REUSEADDR as Redis and HAProxy use it, so
    connections of a just-stopped process in TIME_WAIT do not count as taking the port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_range(kind: str) -> range:
    low, high = settings.CONTROLPLANE_LOCAL_PORTS[kind]
    return range(int(low), int(high) + 1)


class PortRegistry:
    """The ports a local target has handed out, keyed by what holds them (e.g. "db/c1/cache/0/1")."""

    def __init__(self, root: Path):
        self.path = root / "ports.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, int]]:
        with open_private(self.path.with_suffix(".lock")) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = json.loads(self.path.read_text()) if self.path.exists() else {}
                before = dict(data)
                yield data
                if data != before:
                    tmp = self.path.with_suffix(".tmp")
                    write_private(tmp, json.dumps(data, indent=1, sort_keys=True))
                    tmp.replace(self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def all(self) -> dict[str, int]:
        with self._locked() as data:
            return dict(data)

    def get(self, key: str) -> int | None:
        return self.all().get(key)

    def allocate(self, key: str, kind: str, *, avoid: Iterable[int] = ()) -> int:
        """The port remembered for `key`, or a new free one from the `kind` range."""
        with self._locked() as data:
            if key in data:
                return data[key]
            port = self._free(kind, set(data.values()) | set(avoid))
            data[key] = port
            return port

    def release(self, prefix: str) -> None:
        """Forget every allocation whose key starts with `prefix`."""
        with self._locked() as data:
            for key in [k for k in data if k.startswith(prefix)]:
                del data[key]

    @staticmethod
    def _free(kind: str, taken: set[int]) -> int:
        for port in port_range(kind):
            if port not in taken and is_bindable(port):
                return port
        low, high = settings.CONTROLPLANE_LOCAL_PORTS[kind]
        raise TargetError(f"no free {kind} port left in {low}-{high}")
