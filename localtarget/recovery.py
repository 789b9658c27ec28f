"""Cluster recovery: after every process stopped (a machine restart), bring each database back
from its persistence files, then clear `clusterRecovery` from the spec.

The role of each shard process on the way back is decided by roles.py: the sentinels' master if
it has data, else the process with the newest data; never an empty data directory over data.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F

from core.drivers import Happening

log = logging.getLogger(__name__)
DATABASE_TIMEOUT = 90.0


def recover_cluster(cluster) -> list[Happening]:
    """Reconcile every database of the cluster in the foreground, then clear the recovery flag."""
    from engine.reconcile import reconcile_until_settled

    results = []
    for database in cluster.databases.filter(deletion_requested_at__isnull=True).order_by("name"):
        outcome = reconcile_until_settled("database", database.pk, timeout=DATABASE_TIMEOUT)
        results.append(f"{database.name}: {outcome.state}{' (' + outcome.error + ')' if outcome.error else ''}")
    summary = "; ".join(results) or "no databases"
    clear_flag(cluster, summary)
    return [Happening("RecoveryCompleted", f"cluster recovery finished: {summary}")]


def request_recovery(cluster, *, actor: str) -> None:
    """Set `clusterRecovery: true` (what `manage.py recover` does before reconciling)."""
    _set_flag(cluster, True, "RecoveryRequested", "clusterRecovery set: every database is brought back from "
              "its persistence files", actor=actor)


def clear_flag(cluster, summary: str) -> None:
    _set_flag(cluster, False, "RecoveryFlagCleared", f"clusterRecovery cleared after recovery ({summary})")


def _set_flag(cluster, value: bool, reason: str, message: str, *, actor: str | None = None) -> None:
    """A minimal, targeted spec write: only `clusterRecovery` changes; the generation is bumped."""
    from clusters.models import Cluster
    from timeline.record import CONTROLPLANE_ACTOR, record_event

    with transaction.atomic():
        stored = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if bool(stored.spec.get("clusterRecovery", False)) == value:
            return
        spec = dict(stored.spec)
        if value:
            spec["clusterRecovery"] = True
        else:
            spec.pop("clusterRecovery", None)
        Cluster.objects.filter(pk=cluster.pk).update(spec=spec, generation=F("generation") + 1)
        stored.refresh_from_db()
        record_event(stored, reason, message, actor=actor or CONTROLPLANE_ACTOR)
