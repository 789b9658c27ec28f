"""Online resharding on real processes: batched slot moves under a writer, and a worker killed mid-migration.

Lean on purpose (20,000 keys); bench/reshard.py runs the same with 200,000 and prints the rates.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis
from redis.cluster import RedisCluster

from dataplane.cluster import myself, parse_nodes
from dataplane.migration import ATOMIC_DONE, migration_jobs
from tests.browser.stack import BASE_DIR, LiveStack, wait_until

from .conftest import settle
from .test_engines import with_valkey  # noqa: F401  (fixture)

KEYS = 20_000


class Writer(threading.Thread):
    """Overwrites keys (and adds new ones) while slots move; a write counts once it is acknowledged."""

    def __init__(self, port: int, password: str, keys: int):
        super().__init__(daemon=True)
        self.port, self.password, self.keys = port, password, keys
        self.acked: dict[str, str] = {}
        self.errors = 0
        self.failure: str | None = None
        self.stopping = threading.Event()

    def client(self) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.port, password=self.password, decode_responses=True,
                            socket_timeout=5)

    def run(self) -> None:
        client, i = self.client(), 0
        while not self.stopping.is_set():
            key, value = (f"k:{i % self.keys}" if i % 2 else f"new:{i}"), f"w{i}"
            for _ in range(300):  # retries, as a client of a resharding cluster does
                try:
                    client.set(key, value)
                    self.acked[key] = value
                    break
                except Exception:  # noqa: BLE001  (redis-py's cluster client raises plain errors mid-reshard too)
                    self.errors += 1
                    time.sleep(0.02)
                    client = self.client()
            else:
                self.failure = f"{key} was never acknowledged"
                return
            i += 1
            time.sleep(0.001)

    def finish(self) -> dict[str, str]:
        self.stopping.set()
        self.join(timeout=30)
        assert self.failure is None, self.failure
        return self.acked


def write_keys(client: RedisCluster, count: int) -> dict[str, str]:
    for first in range(0, count, 2000):
        pipe = client.pipeline()
        for i in range(first, min(first + 2000, count)):
            pipe.set(f"k:{i}", f"v{i}")
        pipe.execute()
    return {f"k:{i}": f"v{i}" for i in range(count)}


def wrong_keys(client: RedisCluster, expected: dict[str, str]) -> list[str]:
    keys, wrong = list(expected), []
    for first in range(0, len(keys), 2000):
        chunk = keys[first:first + 2000]
        pipe = client.pipeline()
        for key in chunk:
            pipe.get(key)
        wrong += [key for key, value in zip(chunk, pipe.execute(), strict=True) if value != expected[key]]
    return wrong


def cluster_check(port: int, password: str) -> str:
    out = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{port}", "-a", password,
                          "--no-auth-warning"], capture_output=True, text=True, timeout=60).stdout
    assert "[OK] All 16384 slots covered." in out and "[ERR]" not in out and "[WARNING]" not in out, out
    return out


def test_reshard_3_to_5_to_2_under_a_writer_keeps_every_acknowledged_write(make_database):
    from databases.services import update_database
    from timeline.models import Event

    database = make_database(shardCount=3, memorySize="500MB")
    port = int(database.status["endpoint"].rsplit(":", 1)[1])
    client = RedisCluster(host="127.0.0.1", port=port, password=database.password, decode_responses=True)
    expected = write_keys(client, KEYS)
    writer = Writer(port, database.password, KEYS)
    writer.start()
    for shards in (5, 2):
        update_database(database, spec={**database.spec, "shardCount": shards}, actor="test")
        assert settle(database, timeout=80).state == "active", database.status
        assert len(database.status["shardMasters"]) == shards
        assert "resharding" not in database.status  # progress is gone once the reshard is done
    expected.update(writer.finish())
    assert len(writer.acked) > 50  # the writer really wrote during both reshards
    assert wrong_keys(RedisCluster(host="127.0.0.1", port=port, password=database.password,
                                   decode_responses=True), expected) == []
    cluster_check(port, database.password)
    moved = [e.message for e in Event.objects.filter(object_id=database.pk, reason="Resharded").order_by("id")]
    assert len(moved) == 2 and all("keys/s, batched MIGRATE)" in m for m in moved)
    assert moved[0].startswith("6553 slots") and "to reach 5 shards" in moved[0]  # the fewest: 16384 * 2/5
    assert moved[1].startswith("9830 slots") and "to reach 2 shards" in moved[1]


class Stack(LiveStack):
    """The live stack without its web server: `manage.py` subprocesses against one SQLite file."""

    def start_web(self) -> None:
        pass

    def status(self, name: str) -> dict:
        rows = self.query("SELECT status FROM databases_database WHERE name = ?", name)
        return json.loads(rows[0][0] or "{}") if rows else {}


REC = "apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseCluster\nmetadata: {name: rec}\nspec: {nodes: 3}\n"
REDB = ("apiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseDatabase\nmetadata: {name: shop}\n"
        "spec: {memorySize: 400MB, shardCount: %d}\n")
VALKEY_REDB = REDB.replace("shardCount: %d}", "shardCount: %d, redisVersion: valkey-9.1}")


@pytest.fixture
def stack(tmp_path):
    live = Stack(tmp_path)
    live.start()
    yield live
    live.close()


def open_slot_count(ports: list[int], password: str) -> int:
    count = 0
    for port in ports:
        try:
            me = myself(parse_nodes(redis.Redis(port=port, password=password, socket_timeout=1, decode_responses=True)
                                    .execute_command("CLUSTER", "NODES")))
        except redis.RedisError:
            continue
        count += len(me.migrating) + len(me.importing) if me else 0
    return count


def two_shard_shop(stack, tmp_path, redb: str) -> tuple[str, int, list[int]]:
    """Cluster `rec` and database `shop` (`redb`) applied and reconciled by `manage.py` in `stack`: the
    database's password, its endpoint port and its shard masters' ports."""
    (tmp_path / "rec.yaml").write_text(REC)
    (tmp_path / "shop.yaml").write_text(redb)
    stack.manage("apply", "-f", str(tmp_path / "rec.yaml"))
    stack.reconcile("rec", "rec")
    stack.manage("apply", "-f", str(tmp_path / "shop.yaml"), "--team", "payments")
    stack.reconcile("shop", "redb")
    status = stack.status("shop")
    password = stack.manage("shell", "-c", "from databases.models import Database; "
                                           "print(Database.objects.get(name='shop').password)").split()[-1]
    port = int(status["endpoint"].rsplit(":", 1)[1])
    return password, port, [status["processes"][name]["port"] for name in status["shardMasters"]]


def reshard_in_a_worker(stack, tmp_path, redb: str) -> subprocess.Popen:
    """`redb` (shop with its new shard count) applied, and its reconcile started as a worker process to kill."""
    (tmp_path / "shop.yaml").write_text(redb)
    stack.manage("apply", "-f", str(tmp_path / "shop.yaml"))
    return subprocess.Popen([sys.executable, "manage.py", "reconcile", "shop", "--kind", "redb"], cwd=BASE_DIR,
                            env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(worker: subprocess.Popen, moment, interval: float) -> None:
    """SIGKILL `worker` as soon as `moment()` holds (within 60 s); it must still be running then."""
    try:
        wait_until(lambda: moment() or worker.poll() is not None, timeout=60, interval=interval)
        assert worker.poll() is None, "the reshard finished before the worker could be killed"
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()


def test_an_oss_cluster_database_grows_from_one_shard_online(make_database):
    from databases.services import reveal_credentials, update_database

    database = make_database(shardCount=1, ossCluster=True, memorySize="200MB")
    assert len(database.status["shardMasters"]) == 1
    port = int(database.status["endpoint"].rsplit(":", 1)[1])
    client = RedisCluster(host="127.0.0.1", port=port, password=database.password, decode_responses=True)
    assert client.cluster_info()["cluster_state"] == "ok"
    assert " -c " in reveal_credentials(database, actor="test").redis_cli
    expected = write_keys(client, 2000)
    update_database(database, spec={**database.spec, "shardCount": 2}, actor="test")
    assert settle(database, timeout=80).state == "active", database.status
    assert len(database.status["shardMasters"]) == 2
    assert wrong_keys(RedisCluster(host="127.0.0.1", port=port, password=database.password,
                                   decode_responses=True), expected) == []
    cluster_check(port, database.password)


@pytest.mark.usefixtures("with_valkey")
def test_valkey_moves_slots_atomically_under_a_writer(make_database):
    from databases.services import update_database
    from timeline.models import Event

    database = make_database(shardCount=2, memorySize="300MB", redisVersion="valkey-9.1")
    port = int(database.status["endpoint"].rsplit(":", 1)[1])
    expected = write_keys(RedisCluster(host="127.0.0.1", port=port, password=database.password,
                                       decode_responses=True), 5000)
    writer = Writer(port, database.password, 5000)
    writer.start()
    update_database(database, spec={**database.spec, "shardCount": 3}, actor="test")
    assert settle(database, timeout=80).state == "active", database.status
    expected.update(writer.finish())
    assert wrong_keys(RedisCluster(host="127.0.0.1", port=port, password=database.password,
                                   decode_responses=True), expected) == []
    cluster_check(port, database.password)
    moved = Event.objects.get(object_id=database.pk, reason="Resharded").message
    assert moved.startswith("5461 slots") and "CLUSTER MIGRATESLOTS" in moved


def running_exports(ports: list[int], password: str) -> list[str]:
    """Names of the atomic slot migrations (CLUSTER GETSLOTMIGRATIONS) these masters are exporting right now."""
    names = []
    for port in ports:
        conn = redis.Redis(port=port, password=password, socket_timeout=1, decode_responses=True)
        try:
            jobs = migration_jobs(conn)
        except redis.RedisError:
            continue
        names += [job["name"] for job in jobs
                  if job.get("operation") == "EXPORT" and job.get("state") not in ATOMIC_DONE]
    return names


@pytest.fixture
def valkey_stack(tmp_path):
    from localtarget.versions import packaged_versions

    live = Stack(tmp_path, STACK_EXTRA_VERSIONS=json.dumps({k: str(v) for k, v in packaged_versions().items()}))
    live.start()
    yield live
    live.close()


def test_a_worker_killed_during_a_valkey_atomic_migration_leaves_a_job_the_next_reconcile_waits_for(valkey_stack,
                                                                                                   tmp_path):
    stack = valkey_stack
    password, port, masters = two_shard_shop(stack, tmp_path, VALKEY_REDB % 2)
    expected = write_keys(RedisCluster(host="127.0.0.1", port=port, password=password, decode_responses=True), 3000)
    # Valkey's own debug knob slows each migration's snapshot (8 ms a key, ~4 s a job): the kill lands in a
    # job, and the next reconcile (a new process, ~2 s to start) still finds it running.
    for master in masters:
        redis.Redis(port=master, password=password).config_set("rdb-key-save-delay", 8000)
    writer = Writer(port, password, 3000)
    writer.start()

    worker = reshard_in_a_worker(stack, tmp_path, VALKEY_REDB % 3)
    kill_when(worker, lambda: running_exports(masters, password), interval=0.01)
    assert running_exports(masters, password), "Valkey keeps running its job after the worker is gone"
    # Jobs run one at a time: only the master exporting now keeps the slow snapshot (the job the next reconcile
    # must find running); the other master's job, which that reconcile starts itself, runs at full speed.
    for master in masters:
        if not running_exports([master], password):
            redis.Redis(port=master, password=password).config_set("rdb-key-save-delay", 0)
    progress = stack.status("shop")["resharding"]
    assert progress["shards"] == 3 and progress["slotsMoved"] < progress["slotsTotal"]

    stack.reconcile("shop", "redb")
    status = stack.status("shop")
    assert status["state"] == "active" and len(status["shardMasters"]) == 3 and "resharding" not in status
    assert running_exports([p["port"] for p in status["processes"].values()], password) == []
    expected.update(writer.finish())
    assert wrong_keys(RedisCluster(host="127.0.0.1", port=port, password=password, decode_responses=True),
                      expected) == []
    cluster_check(port, password)
    events = stack.query("SELECT reason, message FROM timeline_event WHERE object_name = 'shop'")
    assert any(reason == "ReshardResumed" and "slot migration job" in message for reason, message in events), events
    assert any(reason == "Resharded" and "CLUSTER MIGRATESLOTS" in message for reason, message in events)
