"""`manage.py reconcile [NAME] [--kind rec|redb] [--wait] [--timeout S]`: reconcile in the foreground.

Without NAME, every object (clusters first). With --wait, repeat until each object settles and fail
if one does not within the timeout.
"""
from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from core import kinds as registry
from core.errors import InternalError, TargetError
from core.locks import LockBusy
from engine.reconcile import Outcome, reconcile, reconcile_until_settled
from manifests.management.lookup import parse_kind, queryset


class Command(BaseCommand):
    help = "Reconcile clusters and databases now, in this process."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="objects with this name; every object when left out")
        parser.add_argument("--kind", help="rec or redb (default: both)")
        parser.add_argument("--cluster", help="databases of this cluster only")
        parser.add_argument("--wait", action="store_true", help="repeat until settled")
        parser.add_argument("--timeout", type=float, default=300, help="seconds --wait waits in all (default 300)")

    def handle(self, *args, name: str | None, kind: str | None, cluster: str | None, wait: bool, timeout: float,
               **options):
        wanted = [registry.get(parse_kind(kind))] if kind else registry.all_kinds()
        if cluster:  # only kinds that live on a cluster
            wanted = [k for k in wanted if k.parent]
        work = []
        for each in (k.name for k in wanted):
            qs = queryset(each, cluster=cluster)
            work += [(each, obj.pk, obj.name) for obj in (qs.filter(name=name) if name else qs)]
        if name and not work:
            raise CommandError(f"nothing named {name} to reconcile")
        deadline = time.monotonic() + timeout
        unsettled = []
        for each, pk, label in work:
            outcome = self._run(each, pk, wait=wait, remaining=max(deadline - time.monotonic(), 0))
            state = "gone" if outcome.gone else outcome.state or "(no state)"
            detail = f": {outcome.error}" if outcome.error else ""
            self.stdout.write(f"{each} {label}: {state}{'' if outcome.settled else ' (not settled)'}{detail}")
            if not outcome.settled:
                unsettled.append(label)
        if wait and unsettled:
            raise CommandError(f"not settled within {timeout:g}s: {', '.join(unsettled)}")

    @staticmethod
    def _run(kind: str, pk: int, *, wait: bool, remaining: float) -> Outcome:
        try:
            if wait:
                return reconcile_until_settled(kind, pk, timeout=remaining)
            return reconcile(kind, pk)
        except LockBusy as exc:
            return Outcome(state="", settled=False, error=str(exc))
        except (TargetError, InternalError) as exc:
            return Outcome(state="Error", settled=False, error=str(exc))
