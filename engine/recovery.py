"""Cluster recovery (`clusterRecovery: true`, `manage.py recover`): after every process or pod stopped,
bring each database back from its persistence files, then clear the flag. Drivers call it once the
cluster's quorum is back.

Who is master on the way back is decided where the processes start, never by promoting here: on
the local target by localtarget/roles.py, on Kubernetes by the pods' start-up guard
(kube/render/redis_scripts.py): the sentinels' master if it has data, else the peer with the data;
never an empty data directory over data.

`recovery_step` (both targets) never reconciles a database under the cluster's lock: the first pass
asks for a reconcile of every database (each comes back through its own reconcile, under its own
lock), and a later pass clears the flag once every database is back (the driver's `database_is_back`),
or RECOVERY_TIMEOUT after the start, naming what is not.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from clusters.services import set_recovery
from core.drivers import Condition, Happening
from engine.enqueue import request_reconcile
from timeline.record import CONTROLPLANE_ACTOR

log = logging.getLogger(__name__)
RECOVERY_TIMEOUT = 300.0
STARTED = "recoveryStartedAt"  # cluster status key (epoch seconds) while a recovery is under way


@dataclass
class RecoveryStep:
    """What one pass of the cluster's reconcile found: its status fields, condition and happenings."""
    condition: Condition
    details: dict = field(default_factory=dict)
    happenings: list[Happening] = field(default_factory=list)


def recovery_step(cluster, is_back: Callable[[object], bool]) -> RecoveryStep:
    """One look at a cluster being recovered, its quorum already up (`is_back`: the driver's
    `database_is_back`). The first asks for a reconcile of
    every database; the one that finds them all back clears the flag."""
    databases = list(cluster.databases.filter(deletion_requested_at__isnull=True).order_by("name"))
    started = (cluster.status or {}).get(STARTED)
    if started is None:
        started = time.time()
        for database in databases:
            request_reconcile(database)
    waiting = [d.name for d in databases if not is_back(d)]
    if waiting and time.time() - started < RECOVERY_TIMEOUT:
        return RecoveryStep(Condition("Recovered", "False", "WaitingForDatabases",
                                      f"waiting for {', '.join(waiting)} to answer"), details={STARTED: started})
    summary = "; ".join(f"{d.name}: {d.state}{' (not answering)' if d.name in waiting else ''}"
                        for d in databases) or "no databases"
    clear_flag(cluster, summary)
    return RecoveryStep(Condition("Recovered", "False" if waiting else "True", "RecoveryFinished", summary),
                        happenings=[Happening("RecoveryCompleted", f"cluster recovery finished: {summary}",
                                              warning=bool(waiting))])


def request_recovery(cluster, *, actor: str) -> None:
    """Set `clusterRecovery: true` (what `manage.py recover` does before reconciling)."""
    set_recovery(cluster, enabled=True, actor=actor, reason="RecoveryRequested")


def clear_flag(cluster, summary: str) -> None:
    """Clear `clusterRecovery` through the cluster services (validated, published, reconciled again)."""
    log.info("cluster %s recovered: %s", cluster.name, summary)
    set_recovery(cluster, enabled=False, actor=CONTROLPLANE_ACTOR, reason="RecoveryFlagCleared")
