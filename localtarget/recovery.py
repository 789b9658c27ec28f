"""Cluster recovery: after every process stopped (a machine restart), bring each database back from its
persistence files, then clear `clusterRecovery` from the spec.

The cluster's reconcile only starts its quorum and asks for a reconcile of each database; every database
comes back through its own reconcile, under its own lock (roles.py decides each shard process's role on
the way back: the sentinels' master if it has data, else the newest data, never an empty data directory
over data). The cluster's reconcile never waits on them while holding its lock: it looks again on its
next pass and clears the flag once every database answers through its endpoint (or RECOVERY_TIMEOUT
after the start, naming the states then).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from clusters.services import set_recovery
from core.drivers import Condition, Happening
from core.errors import TargetError
from engine.enqueue import request_reconcile
from timeline.record import CONTROLPLANE_ACTOR

from .processes import client

log = logging.getLogger(__name__)
RECOVERY_TIMEOUT = 300.0
STARTED = "recoveryStartedAt"  # cluster status key (epoch seconds) while a recovery is under way


@dataclass
class RecoveryStep:
    """What one pass of the cluster's reconcile found: its status fields, condition and happenings."""
    condition: Condition
    details: dict = field(default_factory=dict)
    happenings: list[Happening] = field(default_factory=list)
    done: bool = False


def recovery_step(cluster, endpoint_port: Callable[[object], int]) -> RecoveryStep:
    """One look at a cluster being recovered, its quorum already up. The first asks for a reconcile of
    every database; the one that finds them all answering clears the flag."""
    databases = list(cluster.databases.filter(deletion_requested_at__isnull=True).order_by("name"))
    started = (cluster.status or {}).get(STARTED)
    if started is None:
        started = time.time()
        for database in databases:
            request_reconcile(database)
    waiting = [d.name for d in databases if not _answers(d, endpoint_port)]
    if waiting and time.time() - started < RECOVERY_TIMEOUT:
        return RecoveryStep(Condition("Recovered", "False", "WaitingForDatabases",
                                      f"waiting for {', '.join(waiting)} to answer through the endpoint"),
                            details={STARTED: started})
    summary = "; ".join(f"{d.name}: {'answering' if d.name not in waiting else 'not answering'} ({d.state})"
                        for d in databases) or "no databases"
    clear_flag(cluster, summary)
    return RecoveryStep(Condition("Recovered", "True" if not waiting else "False", "RecoveryFinished", summary),
                        happenings=[Happening("RecoveryCompleted", f"cluster recovery finished: {summary}",
                                              warning=bool(waiting))], done=True)


def _answers(database, endpoint_port: Callable[[object], int]) -> bool:
    """The database answers AUTH+PING through its endpoint (HAProxy routes to a live master)."""
    try:
        return bool(client(endpoint_port(database), database.password, timeout=2).ping())
    except (redis.RedisError, TargetError):
        return False


def request_recovery(cluster, *, actor: str) -> None:
    """Set `clusterRecovery: true` (what `manage.py recover` does before reconciling)."""
    set_recovery(cluster, enabled=True, actor=actor, reason="RecoveryRequested")


def clear_flag(cluster, summary: str) -> None:
    """Clear `clusterRecovery` through the cluster services (validated, published, reconciled again)."""
    log.info("cluster %s recovered: %s", cluster.name, summary)
    set_recovery(cluster, enabled=False, actor=CONTROLPLANE_ACTOR, reason="RecoveryFlagCleared")
