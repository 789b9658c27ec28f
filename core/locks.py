"""One reconcile of an object at a time, across every worker: a Redis lock per object."""
from __future__ import annotations

import contextlib
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
    lock = redis_client().lock(f"controlplane:reconcile:{kind}:{pk}", timeout=ttl, blocking_timeout=wait)
    if not lock.acquire(blocking=wait > 0):
        raise LockBusy(f"{kind} {pk} is being reconciled by another worker")
    try:
        yield
    finally:
        with contextlib.suppress(LockError):
            lock.release()
