"""One reconcile of an object at a time, across every worker: a Redis lock per object.

The lock lives a short time (`CONTROLPLANE_LOCK_TTL`, 30 s) and a heartbeat thread renews it while its
holder works, so a long reconcile keeps it and a dead worker's lock frees within one TTL.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import redis
from django.conf import settings
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)


class LockBusy(Exception):
    """Another worker is reconciling this object right now."""


_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    """The control plane's own Redis (broker and channel layer), one client per URL per process."""
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    return _clients[url]


def _heartbeat(lock, stop: threading.Event, every: float) -> None:
    """Reset the lock's TTL every `every` s until `stop` is set."""
    while not stop.wait(every):
        try:
            lock.reacquire()
        except (LockError, RedisError) as exc:
            log.warning("could not renew reconcile lock %s: %s", lock.name, exc)
            return


@contextlib.contextmanager
def object_lock(kind: str, pk: int, *, wait: float = 30, ttl: float | None = None) -> Iterator[None]:
    """Hold the reconcile lock of one object; raises LockBusy if it cannot be had within `wait` s."""
    ttl = ttl or settings.CONTROLPLANE_LOCK_TTL
    # thread_local=False: the heartbeat thread renews with the token the holder acquired.
    lock = redis_client().lock(f"controlplane:reconcile:{kind}:{pk}", timeout=ttl, blocking_timeout=wait,
                               thread_local=False)
    if not lock.acquire(blocking=wait > 0):
        raise LockBusy(f"{kind} {pk} is being reconciled by another worker")
    stop = threading.Event()
    renewer = threading.Thread(target=_heartbeat, args=(lock, stop, ttl / 3), daemon=True,
                               name=f"lock-heartbeat-{kind}-{pk}")
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        with contextlib.suppress(LockError):
            lock.release()
