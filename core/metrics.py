"""What the processes of the control plane record for `/metrics` (metrics/exposition.py serves it).

Reconciles run in Celery workers and in the web process, so their counts and durations go to the
control plane's Redis (one hash, a few HINCRBY per reconcile) and every scrape of any web process
sees all of them — multiprocess-safe without prometheus_client's multiprocess mode. Websocket
clients are a gauge of the web process holding them (one web process per scrape target).
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import redis
from prometheus_client import Gauge

from . import own_redis

RECONCILE_HASH = "controlplane:metrics:reconcile"
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

WEBSOCKET_CLIENTS = Gauge("controlplane_websocket_clients", "Dashboard websockets open on this web process")


def redis_client() -> redis.Redis:
    """The control plane's own Redis, impatient: a figure is not worth waiting for."""
    return own_redis.client(timeout=2, connect_timeout=1)


def record_reconcile(kind: str, seconds: float, outcome: str) -> None:
    """outcome: "ok", "error" or "busy" (the object's lock was held). Never raises: losing a figure
    must not fail a reconcile."""
    with contextlib.suppress(redis.RedisError), redis_client().pipeline(transaction=False) as pipe:
        pipe.hincrby(RECONCILE_HASH, f"total|{kind}|{outcome}", 1)
        if outcome != "busy":
            pipe.hincrbyfloat(RECONCILE_HASH, f"sum|{kind}", seconds)
            pipe.hincrby(RECONCILE_HASH, f"count|{kind}", 1)
            for bound in BUCKETS:
                if seconds <= bound:
                    pipe.hincrby(RECONCILE_HASH, f"bucket|{kind}|{bound}", 1)
        pipe.execute()


@contextlib.contextmanager
def reconcile_timer(kind: str, busy: type[BaseException]) -> Iterator[None]:
    """Time the block; an exception counts as an error, `busy` (the lock) as busy."""
    started = time.monotonic()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except busy:
        outcome = "busy"
        raise
    finally:
        record_reconcile(kind, time.monotonic() - started, outcome)
