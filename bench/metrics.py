"""Metrics figures: the cost of one database sample (INFO through the network, store, alert check) and of
one `/metrics` scrape with many objects, against a real redis-server standing in for both the control
plane's Redis and a database.

    .venv/bin/python bench/metrics.py [--databases 1000] [--samples 200]
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from common import options, setup_django  # bench/ is on sys.path when run as a script


def main() -> None:
    args = options(__doc__, databases=1000, samples=200)
    from tests.servers import redis_server

    with tempfile.TemporaryDirectory() as workdir, redis_server() as url:
        setup_django(Path(workdir), url)
        from accounts.models import Team
        from clusters.models import Cluster
        from databases.models import Database
        from metrics import store
        from metrics.exposition import render
        from metrics.sampler import read_info, update_alerts
        from metrics.samples import sample_from_info
        from targets.models import Target

        target = Target.default()
        team = Team.objects.create(name="bench")
        cluster = Cluster.objects.create(name="rec", namespace="rec", target=target, spec={"nodes": 3})
        Database.objects.bulk_create(Database(name=f"db{i}", cluster=cluster, team=team, spec={"memorySize": "100MB"},
                                              status={"state": "active"}) for i in range(args.databases))
        database = Database.objects.first()
        database.spec = {**database.spec, "alertSettings": {"bdb_size": {"enabled": True, "threshold": "80"}}}
        host, port = url.split("//")[1].split("/")[0].split(":")
        durations = []
        for _ in range(args.samples):
            start = time.perf_counter()
            info = read_info(host, int(port), "")
            sample = sample_from_info(info, time.time(), store.latest(database.pk))
            store.push(database.pk, sample)
            update_alerts(database, sample)
            durations.append(time.perf_counter() - start)
        print(f"one database sample (INFO all + store + alerts): median {statistics.median(durations) * 1000:.2f} ms, "
              f"p95 {sorted(durations)[int(len(durations) * 0.95)] * 1000:.2f} ms over {args.samples}")
        scrapes = []
        for _ in range(20):
            start = time.perf_counter()
            size = len(render())
            scrapes.append(time.perf_counter() - start)
        print(f"/metrics render with {args.databases} databases: median {statistics.median(scrapes) * 1000:.1f} ms, "
              f"{size} bytes")


if __name__ == "__main__":
    main()
