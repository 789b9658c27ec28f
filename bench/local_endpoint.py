"""Benchmark of the local target's data plane, in one run, on real processes:

1. time from the create request to `active` (a replicated database on a fresh 3-node cluster);
2. redis-benchmark throughput through the HAProxy endpoint vs directly against the master (ratio, target >= 0.8);
3. failover time over 5 kill -9 of the master: from the kill until a write through the same endpoint
   succeeds on the new master (median and max, target <= 5 s).

Run: .venv/bin/python bench/local_endpoint.py [--requests 100000] [--clients 50] [--rounds 3] [--kills 5]
Everything runs under a temporary directory, with its own SQLite and broker Redis; all processes are
stopped at the end.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import setup_django  # bench/ is on sys.path when run as a script


def benchmark(port: int, password: str, requests: int, clients: int, pipeline: int) -> dict[str, float]:
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-a", password, "-t", "set,get",
                          "-n", str(requests), "-c", str(clients), "-P", str(pipeline), "-q", "--csv"],
                         capture_output=True, text=True, timeout=600).stdout
    figures = {}
    for line in out.splitlines():
        match = re.match(r'"(SET|GET)","([\d.]+)"', line)
        if match:
            figures[match.group(1)] = float(match.group(2))
    return figures


def failover_once(database, conn_for) -> float:
    """Kill -9 the master; seconds until a write through the endpoint succeeds on a new master."""
    import redis

    from localtarget.processes import client

    client_ = conn_for()
    client_.set("before-kill", "1")
    client_.wait(1, 2000)
    master_port = int(client_.info("server")["tcp_port"])
    pid = int(client(master_port, database.password).info("server")["process_id"])
    started = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while time.monotonic() - started < 30:
        try:
            conn = conn_for()
            if int(conn.info("server")["tcp_port"]) != master_port and conn.set("after-kill", "1"):
                return time.monotonic() - started
        except redis.RedisError:
            pass
        time.sleep(0.02)
    raise RuntimeError("no failover within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="benchmark rounds per side (median is printed)")
    parser.add_argument("--skip-failover", action="store_true")
    args = parser.parse_args()

    from tests.servers import redis_server

    workdir = Path(tempfile.mkdtemp(prefix="cp-bench-local-"))
    with redis_server() as broker_url:
        setup_django(workdir, broker_url)
        try:
            run(args)
        finally:
            stop_all(workdir)


def run(args) -> None:
    import redis

    from accounts.models import Team
    from clusters.services import create_cluster
    from databases.services import create_database
    from engine.reconcile import reconcile_until_settled

    cluster = create_cluster(name="bench", spec={"nodes": 3}, actor="bench").obj
    reconcile_until_settled("cluster", cluster.pk, timeout=60, interval=0.1)
    team, _ = Team.objects.get_or_create(name="bench")
    started = time.monotonic()
    database = create_database(cluster=cluster, name="bench-db", team=team, actor="bench",
                               spec={"memorySize": "1GB", "replication": True}).obj
    outcome = reconcile_until_settled("database", database.pk, timeout=120, interval=0.1)
    create_to_active = time.monotonic() - started
    database.refresh_from_db()
    print(f"create -> {outcome.state}: {create_to_active:.2f} s (replicated database, sentinels watching)")

    endpoint_port = int(database.status["endpoint"].rsplit(":", 1)[1])
    master_port = database.status["processes"][database.status["master"]]["port"]
    for pipeline in (1, 16):
        # alternate endpoint and direct runs and keep the median of each: this box may be busy with other work
        rounds = [(benchmark(endpoint_port, database.password, args.requests, args.clients, pipeline),
                   benchmark(master_port, database.password, args.requests, args.clients, pipeline))
                  for _ in range(args.rounds)]
        through = {op: statistics.median(r[0][op] for r in rounds) for op in ("SET", "GET")}
        direct = {op: statistics.median(r[1][op] for r in rounds) for op in ("SET", "GET")}
        for op in ("SET", "GET"):
            ratio = through[op] / direct[op] if direct.get(op) else 0
            print(f"redis-benchmark {op} -c {args.clients} -P {pipeline}: endpoint {through[op]:,.0f} req/s, "
                  f"direct {direct[op]:,.0f} req/s, ratio {ratio:.2f} (target >= 0.8)")

    def conn_for():
        return redis.Redis(port=endpoint_port, password=database.password, socket_timeout=1,
                           socket_connect_timeout=0.5, decode_responses=True)

    if args.skip_failover:
        return
    times = []
    for kill in range(args.kills):
        seconds = failover_once(database, conn_for)
        times.append(seconds)
        print(f"failover {kill + 1}: {seconds:.2f} s")
        reconcile_until_settled("database", database.pk, timeout=120, interval=0.2)  # old master back as replica
        database.refresh_from_db()
    print(f"failover over {len(times)} kills: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
          "(target <= 5 s)")
    assert conn_for().get("before-kill") == "1"


def stop_all(workdir: Path) -> None:
    for pid_file in workdir.rglob("*.pid"):
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        except (OSError, ValueError):
            pass


if __name__ == "__main__":
    main()
