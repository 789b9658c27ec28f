"""One reconcile of an object at a time, across every worker: a Redis lock per object.

The lock lives a short time (`CONTROLPLANE_LOCK_TTL`, 30 s) and a heartbeat thread renews it while its
holder works, so a long reconcile keeps it and a dead worker's lock frees within one TTL. The lock's
value also names its holder (host, pid): a worker on the same host that finds the holder's process gone
(killed in the middle of a slot migration, say) takes the lock over at once instead of waiting.
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator

import redis
from django.conf import settings
from redis.exceptions import LockError, RedisError

from . import own_redis

log = logging.getLogger(__name__)


class LockBusy(Exception):
    """Another worker is reconciling this object right now."""


def redis_client() -> redis.Redis:
    """The control plane's own Redis, patient enough that a slow answer does not lose a lock."""
    return own_redis.client(timeout=10, connect_timeout=5)


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
    name = f"controlplane:reconcile:{kind}:{pk}"
    # thread_local=False: the heartbeat thread renews with the token the holder acquired.
    lock = redis_client().lock(name, timeout=ttl, blocking_timeout=wait, thread_local=False)
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    if not lock.acquire(blocking=False, token=token):
        _break_if_holder_died(name)
        if not lock.acquire(blocking=wait > 0, token=token):
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
