"""Benchmark of TLS replication and TLS Redis Cluster on the local target, on real processes:

1. create -> active of a replicated `tlsMode: replica_ssl` database (its cluster's TLS sentinel group included);
2. failover time over N kill -9 of the master, from the kill until a write over TLS through the endpoint
   succeeds on the new master (median, max), and the acknowledged writes read back afterwards;
3. moving the database between sentinel groups (replica_ssl -> enabled -> replica_ssl): seconds per move;
4. a TLS Redis Cluster (shardCount 2, replica_ssl): keys written by a TLS cluster client, reshard 2 -> 3
   (MIGRATE over TLS) in seconds and keys/s, every key read back.

Run: .venv/bin/python bench/local_tls.py [--kills 3] [--keys 20000]
Everything runs under a temporary directory with its own SQLite and broker Redis; all processes are stopped.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from common import options, setup_django  # bench/ is on sys.path when run as a script
from local_endpoint import failover_once, stop_all


def main() -> None:
    args = options(__doc__, kills=3, keys=20_000)
    from tests.servers import redis_server

    workdir = Path(tempfile.mkdtemp(prefix="cp-bench-tls-"))
    with redis_server() as broker_url:
        setup_django(workdir, broker_url)
        try:
            run(args, workdir)
        finally:
            stop_all(workdir)


def run(args, workdir: Path) -> None:
    import redis
    from redis.cluster import RedisCluster

    from accounts.models import Team
    from clusters.services import create_cluster
    from databases.services import create_database, reveal_credentials, update_database
    from engine.reconcile import reconcile_until_settled

    cluster = create_cluster(name="bench", spec={"nodes": 3}, actor="bench").obj
    reconcile_until_settled("cluster", cluster.pk, timeout=60, interval=0.1)
    team, _ = Team.objects.get_or_create(name="bench")

    def settle(database, timeout: float = 120):
        outcome = reconcile_until_settled("database", database.pk, timeout=timeout, interval=0.1)
        database.refresh_from_db()
        return outcome

    started = time.monotonic()
    database = create_database(cluster=cluster, name="secure", team=team, actor="bench",
                               spec={"memorySize": "200MB", "replication": True, "tlsMode": "replica_ssl"}).obj
    outcome = settle(database)
    print(f"replica_ssl create -> {outcome.state}: {time.monotonic() - started:.2f} s (TLS sentinel group started)")
    ca_file = workdir / "ca.crt"
    ca_file.write_text(reveal_credentials(database, actor="bench").ca_certificate)
    port = int(database.status["endpoint"].rsplit(":", 1)[1])

    def conn_for():
        return redis.Redis(port=port, password=database.password, ssl=True, ssl_ca_certs=str(ca_file),
                           socket_timeout=1, socket_connect_timeout=0.5, decode_responses=True)

    acknowledged = 0
    times = []
    for kill in range(args.kills):
        client = conn_for()
        for i in range(acknowledged, acknowledged + 500):
            client.set(f"key:{i}", i)
        if client.wait(1, 2000) >= 1:
            acknowledged += 500
        times.append(failover_once(database, conn_for))
        print(f"failover {kill + 1}: {times[-1]:.2f} s")
        settle(database)
    kept = sum(value == str(i) for i, value in enumerate(conn_for().mget([f"key:{i}" for i in range(acknowledged)])))
    print(f"replica_ssl failover over {len(times)} kills: median {statistics.median(times):.2f} s, max "
          f"{max(times):.2f} s; acknowledged writes read back over TLS: {kept} of {acknowledged}")

    for mode in ("enabled", "replica_ssl"):
        started = time.monotonic()
        update_database(database, spec={**database.spec, "tlsMode": mode}, actor="bench")
        outcome = settle(database)
        keys = sum(v is not None for v in conn_for().mget([f"key:{i}" for i in range(acknowledged)]))
        print(f"move to tlsMode {mode} -> {outcome.state}: {time.monotonic() - started:.2f} s, keys kept {keys} of "
              f"{acknowledged}")

    sharded = create_database(cluster=cluster, name="sharded", team=team, actor="bench",
                              spec={"memorySize": "600MB", "shardCount": 2, "replication": True,
                                    "tlsMode": "replica_ssl"}).obj
    settle(sharded)
    port = int(sharded.status["endpoint"].rsplit(":", 1)[1])

    def cluster_client():
        return RedisCluster(host="127.0.0.1", port=port, password=sharded.password, ssl=True,
                            ssl_ca_certs=str(ca_file), decode_responses=True, socket_timeout=5)

    client = cluster_client()
    pipe = client.pipeline()
    for i in range(args.keys):
        pipe.set(f"user:{i}", i)
    pipe.execute()
    started = time.monotonic()
    update_database(sharded, spec={**sharded.spec, "shardCount": 3}, actor="bench")
    outcome = settle(sharded, timeout=600)
    seconds = time.monotonic() - started
    values = cluster_client().mget_nonatomic([f"user:{i}" for i in range(args.keys)])
    kept = sum(value == str(i) for i, value in enumerate(values))
    print(f"TLS Redis Cluster reshard 2 -> 3 ({args.keys} keys) -> {outcome.state}: {seconds:.2f} s "
          f"({args.keys / 3 / seconds:,.0f} keys/s for the ~third moved); keys read back over TLS: {kept} of "
          f"{args.keys}")


if __name__ == "__main__":
    main()
