"""`manage.py reconcile [NAME] [--kind rec|redb] [--wait] [--timeout S]`: reconcile in the foreground.

Without NAME, every object (clusters first). With --wait, reconcile them in rounds until every object
settles (a cluster being deleted waits for its databases, so no object waits alone), and fail if one
does not within the timeout. First, what users declared on the targets themselves (REC/REDB custom
resources made with kubectl on Kubernetes targets) is taken in, so no watcher is needed.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core import kinds as registry
from core.drivers import driver_for
from core.errors import InternalError, TargetError
from core.locks import LockBusy
from engine.reconcile import Outcome, reconcile, reconcile_all_until_settled
from manifests.management.lookup import parse_kind, queryset
from targets.models import Target


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
        self._take_in()
        wanted = [registry.get(parse_kind(kind))] if kind else registry.all_kinds()
        if cluster:  # only kinds that live on a cluster
            wanted = [k for k in wanted if k.parent]
        work = []
        for each in (k.name for k in wanted):
            qs = queryset(each, cluster=cluster)
            work += [(each, obj.pk, obj.name) for obj in (qs.filter(name=name) if name else qs)]
        if name and not work:
            raise CommandError(f"nothing named {name} to reconcile")
        if wait:
            work += self._deleted_children_of(work)
        if wait:
            outcomes = reconcile_all_until_settled([(each, pk) for each, pk, _ in work], timeout=timeout)
        else:
            outcomes = [self._once(each, pk) for each, pk, _ in work]
        unsettled = []
        for (each, _, label), outcome in zip(work, outcomes, strict=True):
            state = "gone" if outcome.gone else outcome.state or "(no state)"
            detail = f": {outcome.error}" if outcome.error else ""
            self.stdout.write(f"{each} {label}: {state}{'' if outcome.settled else ' (not settled)'}{detail}")
            if not outcome.settled:
                unsettled.append(label)
        if wait and unsettled:
            raise CommandError(f"not settled within {timeout:g}s: {', '.join(unsettled)}")

    def _take_in(self) -> None:
        for target in Target.objects.all():
            try:
                for line in driver_for(target).take_in():
                    self.stdout.write(f"target {target.name}: {line}")
            except TargetError as exc:
                self.stderr.write(f"target {target.name}: custom resources not read: {exc}")

    @staticmethod
    def _deleted_children_of(work: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
        """Objects being deleted whose parent is being deleted too (databases of a cluster): the parent waits
        for them, so --wait takes them too."""
        listed = {(each, pk) for each, pk, _ in work}
        children = []
        for kind in registry.all_kinds():
            parents = [pk for each, pk, _ in work if kind.parent and each == kind.parent]
            if not parents:
                continue
            qs = queryset(kind.name).filter(**{f"{kind.parent}__pk__in": parents,
                                               f"{kind.parent}__deletion_requested_at__isnull": False},
                                            deletion_requested_at__isnull=False)
            children += [(kind.name, obj.pk, obj.name) for obj in qs if (kind.name, obj.pk) not in listed]
        return children

    @staticmethod
    def _once(kind: str, pk: int) -> Outcome:
        try:
            return reconcile(kind, pk)
        except LockBusy as exc:
            return Outcome(state="", settled=False, error=str(exc))
        except (TargetError, InternalError) as exc:
            return Outcome(state="Error", settled=False, error=str(exc))
