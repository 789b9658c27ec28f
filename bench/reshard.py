"""Benchmark of online resharding on the local target, in one run, on real processes:

1. KEYS keys written with a cluster client to a 3-shard database; a writer keeps overwriting them (and
   adding new ones) with retries while the database is resharded 3 -> 5 -> 2 through the control plane;
2. for each reshard: slots and keys moved, keys/s of the migration (from the Resharded event) and end to
   end (spec change -> settled), and the writer's client error rate during it;
3. every key reads back with its last acknowledged value; `redis-cli --cluster check` is clean;
4. the baseline, in the same run: the old one-slot-at-a-time loop (SETSLOT, GETKEYSINSLOT, MIGRATE,
   SETSLOT NODE per slot) moves SLOTS slots, and the new engine (batched on Redis, atomic on Valkey)
   moves them back; their ratio.

Run: .venv/bin/python bench/reshard.py [--keys 200000] [--version 7.0|valkey-9.1 ...] [--baseline-slots 1000]
Everything runs under a temporary directory, with its own SQLite and broker Redis; all processes are stopped.

`--target kubernetes` runs steps 1-3 on a Kubernetes target instead: the API server emulator with its pods
running for real (tests/kube/podrunner, needs root), a StatefulSet per shard, the cluster client reaching
the pods' IPs; the baseline (step 4) is the local target's only.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import setup_django  # bench/ is on sys.path when run as a script

from bench.local_endpoint import stop_all


class Writer:
    """A client in its own process (a thread here would share the control plane's interpreter lock with the
    migration it measures) that overwrites existing keys and adds new ones, retrying each write until
    acknowledged; `acked` holds the last acknowledged value of every key it wrote, once stopped."""

    def __init__(self, address: str, password: str, keys: int):
        context = multiprocessing.get_context("spawn")
        self.attempts, self.errors = context.Value("q", 0), context.Value("q", 0)
        self.stopping, self.results = context.Event(), context.Queue()
        self.process = context.Process(target=write_until_stopped, daemon=True, args=(
            address, password, keys, self.attempts, self.errors, self.stopping, self.results))
        self.acked: dict[str, str] = {}

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.stopping.set()
        outcome = self.results.get(timeout=120)
        self.process.join(timeout=30)
        if isinstance(outcome, str):
            raise RuntimeError(outcome)
        self.acked = outcome

    def window(self) -> tuple[int, int]:
        return self.attempts.value, self.errors.value


def write_until_stopped(address: str, password: str, keys: int, attempts, errors, stopping, results) -> None:
    """The writer process: SET with retries until `stopping`; puts {key: last acknowledged value} (or why it
    failed) on `results`."""
    from redis.cluster import ClusterNode, RedisCluster

    host, port = address.rsplit(":", 1)

    def client_for():
        return RedisCluster(startup_nodes=[ClusterNode(host, int(port))], password=password,
                            decode_responses=True, socket_timeout=5)

    acked: dict[str, str] = {}
    client, i = client_for(), 0
    try:
        while not stopping.is_set():
            key = f"k:{i % keys}" if i % 2 else f"new:{i}"
            value = f"w{i}"
            for _ in range(200):
                with attempts.get_lock():
                    attempts.value += 1
                try:
                    client.set(key, value)
                    acked[key] = value
                    break
                except Exception:  # noqa: BLE001  (redis-py's cluster client also raises plain errors mid-reshard)
                    with errors.get_lock():
                        errors.value += 1
                    time.sleep(0.02)
                    client = client_for()
            else:
                results.put(f"{key} could not be written")
                return
            i += 1
    except Exception as exc:  # noqa: BLE001  (said to the bench, which raises it)
        results.put(f"the writer stopped: {exc!r}")
        return
    results.put(acked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--version", action="append", help="versions to run (default: 7.0 and valkey-9.1 if offered)")
    parser.add_argument("--baseline-slots", type=int, default=1000)
    parser.add_argument("--target", choices=("local", "kubernetes"), default="local")
    args = parser.parse_args()

    from tests.servers import redis_server

    workdir = Path(tempfile.mkdtemp(prefix="cp-bench-reshard-"))
    with redis_server() as broker_url:
        setup_django(workdir, broker_url)
        if args.target == "kubernetes":
            run_kubernetes(args)
            return
        try:
            from localtarget import versions
            offered = versions.available_versions()
            wanted = args.version or [v for v in (min(offered, key=len, default=None), "valkey-9.1") if v in offered]
            for version in wanted:
                run(args, version)
        finally:
            stop_all(workdir)


def run(args, version: str) -> None:
    from redis.cluster import RedisCluster

    from accounts.models import Team
    from clusters.services import create_cluster
    from databases.services import create_database
    from engine.reconcile import reconcile_until_settled

    print(f"--- {version}: {args.keys:,} keys, 3 -> 5 -> 2 shards, a writer with retries")
    label = f"bench-{version.replace('.', '-')}"
    cluster = create_cluster(name=label, namespace=label, spec={"nodes": 3}, actor="bench").obj
    reconcile_until_settled("cluster", cluster.pk, timeout=60, interval=0.1)
    team, _ = Team.objects.get_or_create(name="bench")
    database = create_database(cluster=cluster, name="shop", team=team, actor="bench",
                               spec={"memorySize": "1GB", "shardCount": 3, "redisVersion": version}).obj
    reconcile_until_settled("database", database.pk, timeout=120, interval=0.1)
    database.refresh_from_db()
    port = int(database.status["endpoint"].rsplit(":", 1)[1])

    def client_for():
        return RedisCluster(host="127.0.0.1", port=port, password=database.password, decode_responses=True,
                            socket_timeout=5)

    reshard_under_writer(database, client_for, args.keys, f"127.0.0.1:{port}")
    baseline(database, args.baseline_slots)


def write_keys(client, keys: int) -> dict[str, str]:
    started = time.monotonic()
    for first in range(0, keys, 5000):
        pipe = client.pipeline()
        for i in range(first, min(first + 5000, keys)):
            pipe.set(f"k:{i}", f"v{i}")
        pipe.execute()
    print(f"wrote {keys:,} keys in {time.monotonic() - started:.1f} s")
    return {f"k:{i}": f"v{i}" for i in range(keys)}


def reshard_under_writer(database, client_for, keys: int, address: str, timeout: float = 600) -> None:
    """3 -> 5 -> 2 while the writer writes (a cluster client starting at `address`, a node that stays); then
    every key checked and `redis-cli --cluster check` at `address`."""
    expected = write_keys(client_for(), keys)
    writer = Writer(address, database.password, keys)
    writer.start()
    for shards in (5, 2):
        reshard(database, shards, writer, timeout)
    writer.stop()
    expected.update(writer.acked)
    check(client_for(), expected, address, database.password)


def run_kubernetes(args) -> None:
    """The same reshards on a Kubernetes target whose pods run for real (the pod runner of the tests)."""
    from redis.cluster import ClusterNode, RedisCluster

    from accounts.models import Team
    from clusters.services import create_cluster
    from databases.services import create_database
    from engine.reconcile import reconcile_until_settled
    from targets.models import Target
    from tests.kube.emulator import KubernetesApiEmulator, SimulatedController
    from tests.kube.podrunner import PodRunner, unavailable

    reason = unavailable()
    if reason:
        sys.exit(f"--target kubernetes: {reason}")
    emulator = KubernetesApiEmulator()
    emulator.start()
    runner = PodRunner(emulator.store, SimulatedController(emulator.store)).start()
    try:
        target = Target.objects.create(name="bench-k8s", kind=Target.KUBERNETES, settings={
            "kubeconfig": emulator.kubeconfig(), "request_timeout": 5.0, "dataplane_nameserver": runner.nameserver})
        print(f"--- kubernetes (pod runner): {args.keys:,} keys, 3 -> 5 -> 2 shards, a writer with retries")
        cluster = create_cluster(name="rec", namespace="redis", target=target, spec={"nodes": 3}, actor="bench").obj
        reconcile_until_settled("cluster", cluster.pk, timeout=120, interval=0.5)
        team, _ = Team.objects.get_or_create(name="bench")
        memory = max(500, args.keys // 1000 * 3)  # MB: at least 100MB a shard at 5 shards
        database = create_database(cluster=cluster, name="shop", team=team, actor="bench",
                                   spec={"memorySize": f"{memory}MB", "shardCount": 3}).obj
        reconcile_until_settled("database", database.pk, timeout=180, interval=0.5)
        database.refresh_from_db()

        def client_for():
            pod = emulator.store.find("Pod", "redis", "shop-shard-0-0")
            return RedisCluster(startup_nodes=[ClusterNode(pod["status"]["podIP"], 6379)],
                                password=database.password, decode_responses=True, socket_timeout=5)

        address = f"{emulator.store.find('Pod', 'redis', 'shop-shard-0-0')['status']['podIP']}:6379"
        reshard_under_writer(database, client_for, args.keys, address)
    finally:
        runner.stop()
        emulator.stop()


def reshard(database, shards: int, writer: Writer, timeout: float = 600) -> None:
    from databases.services import update_database
    from engine.reconcile import reconcile_until_settled
    from timeline.models import Event

    before = writer.window()
    latest = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    started = time.monotonic()
    was = database.spec["shardCount"]
    update_database(database, spec={**database.spec, "shardCount": shards}, actor="bench")
    outcome = reconcile_until_settled("database", database.pk, timeout=timeout, interval=0.1)
    seconds = time.monotonic() - started
    after = writer.window()
    database.refresh_from_db()
    events = Event.objects.filter(id__gt=latest, object_kind="database", object_id=database.pk)
    event = events.filter(reason="Resharded").last()
    if event is None:
        print("events:", [(e.reason, e.message) for e in events])
    keys = int(re.search(r"and (\d+) keys", event.message).group(1)) if event else 0
    attempts, errors = after[0] - before[0], after[1] - before[1]
    print(f"{was} -> {shards} shards: {outcome.state}; {event.message if event else 'no Resharded event'}; "
          f"end to end {seconds:.1f} s ({keys / seconds:,.0f} keys/s); writer {attempts:,} attempts, "
          f"{errors:,} errors ({100 * errors / max(attempts, 1):.2f} %), every write retried until acknowledged")


def check(client, expected: dict[str, str], address: str, password: str) -> None:
    keys = list(expected)
    wrong = 0
    for first in range(0, len(keys), 5000):
        chunk = keys[first:first + 5000]
        pipe = client.pipeline()
        for key in chunk:
            pipe.get(key)
        wrong += sum(1 for key, value in zip(chunk, pipe.execute(), strict=True) if value != expected[key])
    print(f"read back {len(keys):,} keys: {wrong} missing or stale (target 0)")
    out = subprocess.run(["redis-cli", "--cluster", "check", address], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "REDISCLI_AUTH": password}).stdout
    clean = "[OK] All 16384 slots covered." in out and "[ERR]" not in out and "[WARNING]" not in out
    print(f"redis-cli --cluster check: {'clean' if clean else 'NOT clean'}")
    if not clean:
        print(out)


def old_loop(src, dst, others, src_id: str, dst_id: str, port: int, password: str, slots: list[int]) -> None:
    """The engine this replaces: one slot at a time, several round trips each (kept here as the baseline)."""
    for slot in slots:
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
        while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 500):
            src.execute_command("MIGRATE", "127.0.0.1", port, "", 0, 10000, "AUTH", password, "KEYS", *keys)
        for conn in (dst, src, *others):
            conn.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)


def baseline(database, count: int) -> None:
    from dataplane.cluster import myself, parse_nodes
    from dataplane.migration import SlotMover, keys_in
    from localtarget.processes import client

    ports = [database.status["processes"][name]["port"] for name in database.status["shardMasters"]]
    conns = [client(p, database.password, timeout=30) for p in ports]
    selves = [myself(parse_nodes(c.execute_command("CLUSTER", "NODES"))) for c in conns]
    source, target = selves[0], selves[1]
    slots = source.slots[:count]
    keys = keys_in(conns[0], slots)
    started = time.monotonic()
    old_loop(conns[0], conns[1], conns[2:], source.id, target.id, target.port, database.password, slots)
    old = keys / (time.monotonic() - started)
    # atomic on Valkey, batched on Redis
    mover = SlotMover(lambda node: client(node.port, database.password, timeout=30), auth=database.password)
    started = time.monotonic()
    back = mover.move(target, source, slots)
    new = back / (time.monotonic() - started)
    print(f"baseline, {len(slots)} slots with {keys:,} keys: one slot at a time {old:,.0f} keys/s; "
          f"{' + '.join(sorted(mover.engines_used))} {new:,.0f} keys/s ({new / max(old, 1):.1f}x)")

if __name__ == "__main__":
    main()
