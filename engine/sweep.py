"""The periodic pass: every object of every target, reading each target once per kind."""
from __future__ import annotations

import logging

from clusters.capacity import footprints_read_once
from core import kinds
from core.drivers import driver_for
from core.errors import InternalError, TargetError
from core.locks import LockBusy
from targets.models import Target

from .reconcile import reconcile

log = logging.getLogger(__name__)


def reconcile_everything() -> dict:
    """Reconcile all clusters, then all databases, target by target; returns counts for logs and benchmarks."""
    counts = {**{kind.plural: 0 for kind in kinds.all_kinds()}, "errors": 0, "busy": 0}
    for target in Target.objects.all():
        driver = driver_for(target)
        with driver.batch(), footprints_read_once():
            work = [(kind, pk) for kind in kinds.all_kinds()
                    for pk in kind.model.objects.filter(**{kind.target_field: target}).values_list("pk", flat=True)]
            for kind, pk in work:
                try:
                    reconcile(kind.name, pk, lock_wait=0)
                    counts[kind.plural] += 1
                except LockBusy:
                    counts["busy"] += 1
                except (TargetError, InternalError) as exc:
                    counts["errors"] += 1
                    log.warning("periodic reconcile of %s %s failed: %s", kind.name, pk, exc)
    return counts
