"""`manage.py recover all|CLUSTER`: the equivalent of `rladmin recover all`, on every target."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clusters.models import Cluster
from engine.reconcile import reconcile_all_until_settled
from engine.recovery import request_recovery


class Command(BaseCommand):
    help = ("Bring clusters back after every process or pod stopped (a machine or cluster restart): restart "
            "the quorum and every database from its persistence files, in the foreground (any target).")

    def add_arguments(self, parser):
        parser.add_argument("which", help='"all", or the name of one cluster')
        parser.add_argument("--timeout", type=float, default=300.0)

    def handle(self, *args, which: str, timeout: float, **options):
        clusters = Cluster.objects.filter(deletion_requested_at__isnull=True)
        clusters = clusters.select_related("target")
        if which != "all":
            clusters = clusters.filter(name=which)
            if not clusters.exists():
                raise CommandError(f'no cluster named "{which}"')
        failed = False
        for cluster in clusters.order_by("name"):
            request_recovery(cluster, actor="cli")
            # Rounds over the cluster and its databases: the cluster starts its quorum, each database comes
            # back through its own reconcile, then the cluster clears the flag (engine/recovery.py).
            databases = cluster.databases.filter(deletion_requested_at__isnull=True).values_list("pk", flat=True)
            outcome = reconcile_all_until_settled([("cluster", cluster.pk), *(("database", pk) for pk in databases)],
                                                  timeout=timeout)[0]
            cluster.refresh_from_db()
            self.stdout.write(f"cluster {cluster.name}: {cluster.state}"
                              + (f" ({outcome.error})" if outcome.error else ""))
            for database in cluster.databases.order_by("name"):
                self.stdout.write(f"  database {database.name}: {database.state}")
                failed = failed or database.state != "active"
            failed = failed or cluster.state != "Running"
        if failed:
            raise CommandError("recovery did not bring everything back; see the states above and the timeline")
