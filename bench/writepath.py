"""Write-path figures: how long validated writes, a many-document YAML apply and a YAML dump take.

Runs against a throwaway SQLite database with reconciliation left to the caller ("manual"), so the
figures are the write path alone (validator, services, events), not Redis or Kubernetes.

    .venv/bin/python bench/writepath.py [--databases 200]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from common import options, report, setup_django, timed  # bench/ is on sys.path when run as a script


def main() -> None:
    args = options(__doc__, databases=200)
    with tempfile.TemporaryDirectory(prefix="bench-writepath-") as tmp:
        setup_django(Path(tmp))
        from django.db import connection

        connection.cursor().execute("PRAGMA journal_mode=WAL")
        run(args.databases)


def run(count: int) -> None:
    import yaml

    from clusters.models import Cluster
    from clusters.services import create_cluster
    from core.errors import SpecError
    from databases.models import Database
    from databases.services import create_database, update_database
    from manifests.documents import apply_documents, dump_objects

    spec = {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "64Gi"}}}
    cluster = create_cluster(name="bench", spec=spec, actor="bench").obj
    create_times = [timed(lambda i=i: create_database(cluster=cluster, name=f"db-{i}", spec={"memorySize": "100MB"},
                                                      team=None, actor="bench")) for i in range(count)]
    report(f"create_database (cluster grows to {count})", create_times)
    databases = list(Database.objects.filter(cluster=cluster))
    update_times = [timed(lambda d=d: update_database(d, spec=dict(d.spec, memorySize="200MB"), actor="bench"))
                    for d in databases]
    report("update_database (spec change)", update_times)
    same_times = [timed(lambda d=d: update_database(d, spec=dict(d.spec), actor="bench")) for d in databases]
    report("update_database (identical spec, no-op)", same_times)

    def rejected(d):
        try:
            update_database(d, spec=dict(d.spec, memorySize="1MB"), actor="bench")
        except SpecError:
            pass
    report("update_database (rejected)", [timed(lambda d=d: rejected(d)) for d in databases])

    documents = [{"apiVersion": "app.redislabs.com/v1", "kind": "RedisEnterpriseCluster",
                  "metadata": {"name": "yaml", "namespace": "yaml"}, "spec": spec}]
    documents += [{"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseDatabase",
                   "metadata": {"name": f"y-{i}", "namespace": "yaml"}, "spec": {"memorySize": "100MB"}}
                  for i in range(count)]
    text = yaml.safe_dump_all(documents)
    # Bulk figures past the bounds one apply accepts by default (bench/apply_limits.py measures those).
    from django.conf import settings
    settings.CONTROLPLANE_APPLY_LIMITS = {**settings.CONTROLPLANE_APPLY_LIMITS, "max_documents": count + 1,
                                          "max_bytes": max(len(text.encode()), 1)}
    report(f"apply_documents (1 REC + {count} REDB, create)", [timed(lambda: apply_documents(text, actor="b"))])
    report(f"apply_documents (1 REC + {count} REDB, unchanged)", [timed(lambda: apply_documents(text, actor="b"))])
    objects = list(Cluster.objects.all()) + list(Database.objects.select_related("cluster__target"))
    report(f"dump_objects yaml ({len(objects)} objects)", [timed(lambda: dump_objects(objects, "yaml"))])

    from core.drivers import driver_for
    from databases.validation import stored_database_problems

    driver = driver_for(cluster.target)
    sweep = [d for d in objects if d.kind == "database"]
    report(f"stored_database_problems (per database, {count} per cluster)",
           [timed(lambda d=d: stored_database_problems(d, driver)) for d in sweep])


if __name__ == "__main__":
    main()
