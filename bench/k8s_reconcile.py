"""Benchmark: reconcile 1,000 databases across 10 clusters against the Kubernetes API emulator.

Prints first-reconcile throughput (objects applied per second), the time of an idle periodic pass,
and how many API calls that pass made (target: under 10 s on 2 cores, O(kinds) calls).

    .venv/bin/python bench/k8s_reconcile.py [--clusters 10] [--databases 1000] [--profile]

--profile prints where the idle pass spends its time.

Uses a throwaway SQLite database and a throwaway redis-server (reconcile locks); touches nothing else.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import options, setup_django  # bench/ is on sys.path when run as a script


def main() -> None:
    args = options(__doc__, clusters=10, databases=1000, profile=False)

    workdir = Path(tempfile.mkdtemp(prefix="bench-k8s-"))

    from tests.servers import redis_server

    with redis_server() as redis_url:
        # Locks, Channels layer and broker all on the throwaway Redis, set before settings load.
        setup_django(workdir, redis_url)
        from tests.kube.emulator import KubernetesApiEmulator, SimulatedController

        emulator = KubernetesApiEmulator()
        emulator.start()
        try:
            run(emulator, SimulatedController(emulator.store), args.clusters, args.databases, args.profile)
        finally:
            emulator.stop()


def run(emulator, controller, n_clusters: int, n_databases: int, profile: bool = False) -> None:
    from clusters.services import create_cluster
    from databases.services import create_database
    from engine.reconcile import reconcile
    from engine.sweep import reconcile_everything
    from targets.models import Target

    target = Target.objects.create(name="bench", kind=Target.KUBERNETES,
                                   settings={"kubeconfig": emulator.kubeconfig(), "request_timeout": 10})
    per_cluster = max(1, n_databases // n_clusters)
    started = time.monotonic()
    clusters = [create_cluster(name=f"rec{i}", namespace=f"ns{i}", target=target, actor="bench",
                               spec={"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"memory": "64Gi"}}}).obj
                for i in range(n_clusters)]
    databases = [create_database(cluster=cluster, name=f"db{j}", team=None, actor="bench",
                                 spec={"memorySize": "100MB"}).obj
                 for cluster in clusters for j in range(per_cluster)]
    print(f"created {len(clusters)} clusters and {len(databases)} databases in the control plane "
          f"in {time.monotonic() - started:.1f} s")

    emulator.reset_requests()
    started = time.monotonic()
    for cluster in clusters:
        reconcile("cluster", cluster.pk)
    controller.step()
    for cluster in clusters:
        reconcile("cluster", cluster.pk)
    for database in databases:
        reconcile("database", database.pk)
    elapsed = time.monotonic() - started
    objects = len(emulator.writes())
    print(f"first reconcile: {objects} objects applied in {elapsed:.1f} s = {objects / elapsed:.0f} objects/s "
          f"({len(emulator.requests)} API calls)")

    started = time.monotonic()
    controller.step()
    print(f"simulated controller created pods in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    reconcile_everything()  # rigs services (labels the masters) and reports active
    print(f"settling pass: {time.monotonic() - started:.1f} s")

    emulator.reset_requests()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.monotonic()
    counts = reconcile_everything()
    elapsed = time.monotonic() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    writes = len(emulator.writes())
    print(f"idle periodic pass over {counts['clusters']} clusters + {counts['databases']} databases: "
          f"{elapsed:.2f} s, {len(emulator.requests)} API calls ({writes} writes), errors {counts['errors']}")
    states = {}
    from clusters.models import Cluster
    from databases.models import Database

    for obj in list(Cluster.objects.all()) + list(Database.objects.all()):
        states[obj.state] = states.get(obj.state, 0) + 1
    print(f"states: {states}")


if __name__ == "__main__":
    main()
