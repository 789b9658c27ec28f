"""The sampling pass: INFO of every database the control plane can reach -> a sample in the store
-> alerts evaluated -> Warning events when one fires, Normal ones when it clears.

Every database is reached where its driver says the control plane reaches its master
(`data_address`): the endpoint on the local target (a TLS database's master, on its loopback plain
port), the master pod on Kubernetes when the control
plane reaches the pods (the data plane; docs/kubernetes.md). A Kubernetes target without it is
skipped at once (its exporter sidecars and Prometheus measure it), so a pass never waits on timeouts.
Within a pass each target is read in one `batch()` (the pods listed once per target).
"""
from __future__ import annotations

import contextlib
import logging
import time

import redis
from django.conf import settings

from access import internal
from core.drivers import driver_for
from core.errors import TargetError
from databases.models import Database
from targets import managed
from timeline.models import Event
from timeline.record import record_event

from . import alerts, store
from .samples import Sample, sample_from_info

log = logging.getLogger(__name__)


def read_info(host: str, port: int, password: str, username: str | None = None) -> dict:
    """INFO of the master the driver names (plain, with the control plane's login)."""
    client = redis.Redis(host=host, port=port, username=username, password=password, socket_timeout=2,
                         socket_connect_timeout=1)
    try:
        return client.info("all")
    finally:
        client.close()


def sample_database(database, info: dict | None = None) -> Sample | None:
    """Take one sample of `database` (INFO read here unless given), store it, update its alerts."""
    if info is None:
        try:
            host, port = driver_for(database.target).data_address(database)
            login = internal.login(database)
            info = read_info(host, port, login.password, login.username)
        except (TargetError, redis.RedisError) as exc:
            log.info("no sample of database %s: %s", database.name, exc)
            return None
    sample = sample_from_info(info, time.time(), store.latest(database.pk))
    store.push(database.pk, sample)
    update_alerts(database, sample)
    return sample


def update_alerts(database, sample: Sample) -> dict[str, alerts.Alert]:
    """Evaluate, remember what fires, and record each transition once as an event."""
    before = store.firing(database.pk)
    now = alerts.evaluate((database.spec or {}).get("alertSettings"), sample)
    fired, cleared = alerts.transitions(set(before), now)
    store.set_firing(database.pk, {name: alert.as_dict() for name, alert in now.items()})
    for alert in fired:
        record_event(database, "AlertFiring", f"{alert.setting}: {alert.message}", type=Event.WARNING)
    for name in cleared:
        record_event(database, "AlertCleared", f"{name}: back within its threshold "
                                               f"(was: {before[name].get('message', '')})")
    return now


def sample_everything() -> dict:
    """One pass over every active database of every local target; counts for logs. One pass at a time
    across workers (a slow pass overlapping the next would store points twice and race on the alerts)."""
    lock = store.redis_client().lock("controlplane:metrics:sampling", blocking_timeout=0,
                                     timeout=max(60, 4 * int(settings.CONTROLPLANE_SAMPLE_SECONDS)))
    if not lock.acquire(blocking=False):
        return {"skipped": 1}
    try:
        return _sample_all()
    finally:
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


def _sample_all() -> dict:
    counts = {"sampled": 0, "unreachable": 0}
    databases = Database.objects.filter(deletion_requested_at__isnull=True) \
        .select_related("cluster__target", "team").order_by("cluster__target_id", "pk")
    by_target: dict[int, list] = {}
    for database in databases:
        if database.state in (managed.DB_ACTIVE, managed.DB_CHANGE_PENDING):
            by_target.setdefault(database.cluster.target_id, []).append(database)
    for group in by_target.values():
        try:
            batch = driver_for(group[0].target).batch()
        except TargetError as exc:
            log.info("no samples from target %s: %s", group[0].target.name, exc)
            counts["unreachable"] += len(group)
            continue
        with batch:
            for database in group:
                counts["sampled" if sample_database(database) else "unreachable"] += 1
    return counts
