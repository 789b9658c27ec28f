"""Cluster recovery (`clusterRecovery: true`, `manage.py recover`): after every process or pod stopped,
bring each database back from its persistence files in the foreground, then clear the flag. Both
targets' drivers call it once the cluster's quorum is back.

Who is master on the way back is decided where the processes start, never by promoting here: on
the local target by localtarget/roles.py, on Kubernetes by the pods' start-up guard
(kube/render/redis_scripts.py): the sentinels' master if it has data, else the peer with the data;
never an empty data directory over data.
"""
from __future__ import annotations

import logging

from clusters.services import set_recovery
from core.drivers import Happening
from engine.reconcile import reconcile_until_settled
from timeline.record import CONTROLPLANE_ACTOR

log = logging.getLogger(__name__)
DATABASE_TIMEOUT = 90.0


def recover_cluster(cluster) -> list[Happening]:
    """Reconcile every database of the cluster in the foreground, then clear the recovery flag."""
    results = []
    for database in cluster.databases.filter(deletion_requested_at__isnull=True).order_by("name"):
        outcome = reconcile_until_settled("database", database.pk, timeout=DATABASE_TIMEOUT)
        results.append(f"{database.name}: {outcome.state}{' (' + outcome.error + ')' if outcome.error else ''}")
    summary = "; ".join(results) or "no databases"
    clear_flag(cluster, summary)
    return [Happening("RecoveryCompleted", f"cluster recovery finished: {summary}")]


def request_recovery(cluster, *, actor: str) -> None:
    """Set `clusterRecovery: true` (what `manage.py recover` does before reconciling)."""
    set_recovery(cluster, enabled=True, actor=actor, reason="RecoveryRequested")


def clear_flag(cluster, summary: str) -> None:
    """Clear `clusterRecovery` through the cluster services (validated, published, reconciled again)."""
    log.info("cluster %s recovered: %s", cluster.name, summary)
    set_recovery(cluster, enabled=False, actor=CONTROLPLANE_ACTOR, reason="RecoveryFlagCleared")
