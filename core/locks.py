"""One reconcile of an object at a time, across every worker: a Redis lock per object.

The lock's value names its holder (host, pid): a worker killed mid-reconcile (in the middle of a slot
migration, say) would otherwise block the object until the lock's TTL ran out; a worker on the same host
sees that the holder's process is gone and takes the lock over at once. Holders on other hosts are only
ever displaced by the TTL.
"""
from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator

import redis
from django.conf import settings
from redis.exceptions import LockError


class LockBusy(Exception):
    """Another worker is reconciling this object right now."""


_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    """The control plane's own Redis (broker and channel layer), one client per URL per process."""
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    return _clients[url]


@contextlib.contextmanager
def object_lock(kind: str, pk: int, *, wait: float = 30, ttl: float = 600) -> Iterator[None]:
    """Hold the reconcile lock of one object; raises LockBusy if it cannot be had within `wait` s."""
    name = f"controlplane:reconcile:{kind}:{pk}"
    lock = redis_client().lock(name, timeout=ttl, blocking_timeout=wait)
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    if not lock.acquire(blocking=False, token=token):
        _break_if_holder_died(name)
        if not lock.acquire(blocking=wait > 0, token=token):
            raise LockBusy(f"{kind} {pk} is being reconciled by another worker")
    try:
        yield
    finally:
        with contextlib.suppress(LockError):
            lock.release()


_DELETE_IF_UNCHANGED = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _break_if_holder_died(name: str) -> None:
    """Delete the lock when its holder is a process of this host that no longer runs."""
    client = redis_client()
    holder = client.get(name)
    if holder is None:
        return
    host, _, rest = holder.decode(errors="replace").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
        return
    client.eval(_DELETE_IF_UNCHANGED, 1, name, holder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
