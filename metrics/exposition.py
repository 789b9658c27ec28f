"""The control plane's own series for `/metrics`, collected at scrape time (docs/metrics.md)."""
from __future__ import annotations

from collections import Counter

import redis
from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from clusters.models import Cluster
from core.metrics import BUCKETS, RECONCILE_HASH, redis_client
from databases.models import Database


def _reconcile_families(raw: dict[str, str]) -> list:
    totals = CounterMetricFamily("controlplane_reconciles", "Reconciles by kind and outcome (ok, error, busy)",
                                 labels=["kind", "outcome"])
    errors = CounterMetricFamily("controlplane_reconcile_errors", "Reconciles that ended in an error",
                                 labels=["kind"])
    durations = HistogramMetricFamily("controlplane_reconcile_duration_seconds", "Reconcile durations",
                                      labels=["kind"])
    kinds = sorted({key.split("|")[1] for key in raw})
    for kind in kinds:
        for outcome in ("ok", "error", "busy"):
            totals.add_metric([kind, outcome], float(raw.get(f"total|{kind}|{outcome}", 0)))
        errors.add_metric([kind], float(raw.get(f"total|{kind}|error", 0)))
        buckets = [(str(b), float(raw.get(f"bucket|{kind}|{b}", 0))) for b in BUCKETS]
        count = float(raw.get(f"count|{kind}", 0))
        durations.add_metric([kind], buckets + [("+Inf", count)], float(raw.get(f"sum|{kind}", 0)))
    return [totals, errors, durations]


def _objects_by_state() -> GaugeMetricFamily:
    family = GaugeMetricFamily("controlplane_objects", "Clusters and databases by state", labels=["kind", "state"])
    for kind, model in (("cluster", Cluster), ("database", Database)):
        counts = Counter((status or {}).get("state") or "unreconciled"
                         for status in model.objects.values_list("status", flat=True))
        for state, count in sorted(counts.items()):
            family.add_metric([kind, state], count)
    return family


def _queue_depth() -> GaugeMetricFamily:
    family = GaugeMetricFamily("controlplane_queue_depth", "Tasks waiting in the Celery queue", labels=["queue"])
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=1)
    try:
        family.add_metric([queue], client.llen(queue))
    finally:
        client.close()
    return family


class ControlPlaneCollector:
    def collect(self):
        up = GaugeMetricFamily("controlplane_redis_up", "Whether the control plane's Redis answered this scrape")
        try:
            raw = {k.decode(): v.decode() for k, v in redis_client().hgetall(RECONCILE_HASH).items()}
            families = [*_reconcile_families(raw), _queue_depth()]
            up.add_metric([], 1)
        except redis.RedisError:
            families = []
            up.add_metric([], 0)
        yield from families
        yield up
        yield _objects_by_state()


def render() -> bytes:
    """Text exposition: the process's default registry (websockets, Python runtime) and our collector."""
    registry = CollectorRegistry()
    registry.register(ControlPlaneCollector())
    return generate_latest(REGISTRY) + generate_latest(registry)
