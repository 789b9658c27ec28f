"""What the database page's charts and alert badge show: the last hour of samples and firing alerts."""
from __future__ import annotations

import time

import redis
from django.conf import settings

from . import store
from .store import HOUR

CHARTED = ("t", "ops_per_sec", "used_memory", "maxmemory", "clients", "keys", "hit_ratio", "replication_lag",
           "latency_usec")


def chart_payload(database) -> dict:
    samples = store.history(database.pk, since=time.time() - HOUR)
    return {
        "interval": int(settings.CONTROLPLANE_SAMPLE_SECONDS),
        "samples": [{name: getattr(s, name) for name in CHARTED} for s in samples],
        "alerts": sorted(store.firing(database.pk).values(), key=lambda a: a["setting"]),
        "metricsEndpoint": (database.status or {}).get("metricsEndpoint", ""),
    }


def firing_alerts(database) -> list[dict]:
    """The alerts firing now, for the page's badge; none when the control plane's Redis is unreachable
    (the page still renders, and the charts script retries)."""
    try:
        return sorted(store.firing(database.pk).values(), key=lambda a: a["setting"])
    except redis.RedisError:
        return []
