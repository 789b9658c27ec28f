"""The rendered start script and probes of a database pod, run for real with sh against redis-server
processes on 127.0.0.1: the pod's mounts become temporary folders and its DNS names loopback ports,
through the environment the script reads (POD_ADDRESS, PEERS, SENTINEL_HOST, REDIS_*_DIR).

Each test causes the event (a restart on an empty volume, a slow full sync, a long load) with keys
written first, and reads them back.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from clusters.models import Cluster
from databases.models import Database
from dataplane.cluster import parse_info as cluster_info
from dataplane.replication import parse_info, promotion_problem
from kube.dataplane import SENTINEL_POD_RULES, DataPlane, DataPlaneError
from kube.render.database import render_database
from targets.models import Target

from ..servers import free_port, redis_server, wait_for_port
from .test_dataplane import sentinel_process

PASSWORD = "database-secret-pw"
INTERNAL = "pods-own-pw"  # the pods' own user's (cp-admin): REDIS_PASSWORD; PASSWORD is the default user's
OWN_LOGIN = {"REDIS_USER": "cp-admin", "REDIS_PASSWORD": INTERNAL}
ADMIN = "cluster-admin-pw"
KEYS = 200_000
SLOW_KEYS = 50_000  # with a per-key delay: a sync or load of a few seconds


def rendered() -> tuple[dict, dict]:
    """The ConfigMap data and the container of a replicated database without persistence."""
    cluster = Cluster(name="rec", namespace="redis", target=Target(name="k8s", kind=Target.KUBERNETES), spec={})
    database = Database(name="cache", cluster=cluster, spec={"memorySize": "200MB", "replication": True},
                        password=PASSWORD)
    manifests = render_database(database)
    config = next(m for m in manifests if m["kind"] == "ConfigMap")["data"]
    container = next(m for m in manifests if m["kind"] == "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    return config, container


def probe(container: dict, name: str, port: int) -> subprocess.CompletedProcess:
    """Run a rendered probe command as the kubelet would, with the container's environment."""
    command = container[name]["exec"]["command"]
    env = {"PATH": os.environ["PATH"], "REDIS_PORT": str(port), "REDISCLI_AUTH": PASSWORD, **OWN_LOGIN}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)


@contextmanager
def pod(port: int, peers: list[int], sentinel_port: int, *, extra_config: str = "", data: Path | None = None,
        listening: bool = True):
    """Start a database pod: the rendered start.sh with the pod's environment, mounts in a temporary folder
    (and, with `listening`, wait until its redis-server answers)."""
    config, container = rendered()
    root = Path(tempfile.mkdtemp(prefix="cp-test-pod-"))
    conf_dir, run_dir, data_dir = root / "etc", root / "run", root / "data"
    for folder in (conf_dir, run_dir, data_dir):
        folder.mkdir()
    for name, text in config.items():
        (conf_dir / name).write_text(text + (extra_config if name == "live.conf" else ""))
    if data is not None:
        shutil.copy(data, data_dir / "dump.rdb")
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    env.update({"PATH": os.environ["PATH"], "REDISCLI_AUTH": PASSWORD, **OWN_LOGIN, "REDIS_PORT": str(port),
                "POD_ADDRESS": f"127.0.0.1:{port}", "PEERS": " ".join(f"127.0.0.1:{p}" for p in peers),
                "SENTINEL_HOST": "127.0.0.1", "SENTINEL_PORT": str(sentinel_port), "PEER_WAIT_SECONDS": "2",
                "REDIS_CONF_DIR": str(conf_dir), "REDIS_RUN_DIR": str(run_dir), "REDIS_DATA_DIR": str(data_dir)})
    log = root / "pod.log"
    with log.open("w") as out:
        proc = subprocess.Popen(container["command"][:1] + [str(conf_dir / "start.sh")], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        if listening:
            wait_for_port(port, timeout=20)
        yield log
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, decode_responses=True, socket_timeout=10)


def wait_until(check, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@contextmanager
def sentinel_watching(master_port: int):
    """A real sentinel that names 127.0.0.1:`master_port` master of `cache` (quorum 2: it never fails over
    alone) and holds the database's own ACL user, as kube/dataplane.py registers it."""
    with sentinel_process(ADMIN) as port:
        sentinel = redis.Redis(host="127.0.0.1", port=port, password=ADMIN, decode_responses=True)
        sentinel.execute_command("SENTINEL", "MONITOR", "cache", "127.0.0.1", master_port, 2)
        sentinel.execute_command("ACL", "SETUSER", "db-cache", "reset", *SENTINEL_POD_RULES, f">{PASSWORD}",
                                 f">{INTERNAL}")
        yield port


def populated(*args: str):
    """A peer as the pods start it: the default user with PASSWORD, the pods' own user with INTERNAL."""
    return redis_server("--requirepass", PASSWORD, "--masterauth", PASSWORD, "--enable-debug-command", "yes",
                        "--user", "cp-admin", "reset", "on", f">{INTERNAL}", "~*", "&*", "+@all", *args)


@pytest.mark.parametrize("sentinel", ["names-the-empty-pod", "unreachable"])
def test_a_pod_restarted_empty_waits_for_its_own_replica_to_be_promoted(sentinel):
    """Item 2: pod 0 (master, no persistence) restarts faster than down-after; pod 1, still its replica,
    holds every key. Pod 0 must neither start as master (pod 1 would resync to nothing) nor as pod 1's
    replica (each would replicate the other and nothing would be master): it waits, not listening, until
    pod 1 is promoted, then copies every key from it."""
    port0 = free_port()
    with ExitStack() as stack:
        peer_url = stack.enter_context(populated())
        port1 = int(peer_url.rsplit(":", 1)[1].split("/")[0])
        peer = client(port1)
        peer.execute_command("DEBUG", "POPULATE", KEYS)
        peer.replicaof("127.0.0.1", port0)  # its master (pod 0) is gone; it keeps its data meanwhile
        sentinel_port = stack.enter_context(sentinel_watching(port0)) if sentinel != "unreachable" else free_port()
        log = stack.enter_context(pod(port0, [port0, port1], sentinel_port, listening=False))
        wait_until(lambda: "a replica of this pod, holds data" in log.read_text(), timeout=20, what="the guard")
        time.sleep(2)
        with pytest.raises(redis.ConnectionError):
            client(port0).ping()  # not listening: neither master nor anybody's replica
        assert peer.dbsize() == KEYS
        # The sentinels' failover promotes pod 1 (here by hand: this sentinel never fails over alone).
        peer.replicaof("NO", "ONE")
        wait_for_port(port0, timeout=20)
        restarted = client(port0)
        wait_until(lambda: restarted.info("replication").get("master_link_status") == "up", what="pod 0 in sync")
        assert restarted.info("replication")["master_port"] == port1, log.read_text()
        assert restarted.dbsize() == KEYS and peer.dbsize() == KEYS


def test_a_replica_in_a_full_sync_is_not_ready_and_not_promotable():
    """Item 1: a replica answers PING mid-sync; readiness and the switchover check both say no."""
    with populated("--repl-diskless-sync", "no") as master_url, ExitStack() as stack:
        master_port = int(master_url.rsplit(":", 1)[1].split("/")[0])
        master = client(master_port)
        master.execute_command("DEBUG", "POPULATE", SLOW_KEYS)
        master.config_set("rdb-key-save-delay", 20)  # microseconds per key: a sync of several seconds
        sentinel_port = stack.enter_context(sentinel_watching(master_port))
        port = free_port()
        stack.enter_context(pod(port, [master_port, port], sentinel_port))
        _, container = rendered()
        replica = client(port)
        wait_until(lambda: replica.info("replication").get("master_sync_in_progress") == 1, what="a full sync")
        assert replica.ping()  # what readiness used to check
        ready = probe(container, "readinessProbe", port)
        assert ready.returncode != 0 and ready.stdout.strip() in ("replication link down", "full sync in progress")
        assert probe(container, "livenessProbe", port).returncode == 0
        info = {**parse_info(replica.info("replication")), **parse_info(replica.info("persistence"))}
        master_offset = master.info("replication")["master_repl_offset"]
        assert promotion_problem(info, master_offset) in ("its replication link is down",
                                                          "a full sync from the master is in progress")
        master.config_set("rdb-key-save-delay", 0)
        wait_until(lambda: probe(container, "readinessProbe", port).returncode == 0, timeout=60, what="readiness")
        info = {**parse_info(replica.info("replication")), **parse_info(replica.info("persistence"))}
        assert promotion_problem(info, master.info("replication")["master_repl_offset"]) is None
        assert replica.dbsize() == SLOW_KEYS


def test_a_pod_loading_its_data_is_alive_but_not_ready(tmp_path):
    """Item 4: PING answers -LOADING while a large RDB loads; liveness and startup must not kill it."""
    with populated("--dir", str(tmp_path)) as url:
        source = client(int(url.rsplit(":", 1)[1].split("/")[0]))
        source.execute_command("DEBUG", "POPULATE", SLOW_KEYS)
        source.save()
        dump = tmp_path / "dump.rdb"
        kept = tmp_path / "kept.rdb"
        shutil.copy(dump, kept)
    port = free_port()
    _, container = rendered()
    # A slow load that still answers clients between batches of keys.
    slow = "key-load-delay 5\nloading-process-events-interval-bytes 65536\n"
    with pod(port, [port], free_port(), extra_config=slow, data=kept):
        wait_until(lambda: _pings(port).startswith("LOADING"), what="LOADING")
        for name in ("startupProbe", "livenessProbe"):
            result = probe(container, name, port)
            assert result.returncode == 0, (name, result.stdout)
        assert probe(container, "readinessProbe", port).returncode != 0
        wait_until(lambda: probe(container, "readinessProbe", port).returncode == 0, timeout=60, what="loaded")
        loaded = client(port)
        assert loaded.dbsize() == SLOW_KEYS and loaded.info("replication")["role"] == "master"


def _pings(port: int) -> str:
    """PING as redis-cli answers it (the probes' client)."""
    env = {"PATH": os.environ["PATH"], "REDISCLI_AUTH": PASSWORD}
    return subprocess.run(["redis-cli", "-p", str(port), "--no-auth-warning", "ping"], env=env, capture_output=True,
                          text=True, timeout=30, check=False).stdout


class _Db:
    """What the data-plane checks read of a database: its password, and that its default user is on."""
    password = PASSWORD
    typed_spec = SimpleNamespace(default_user=True)


def test_the_switchover_check_refuses_a_replica_in_a_full_sync():
    """Item 1, the rollout side: kube/dataplane.py asks the replicas before any SENTINEL FAILOVER."""
    with populated("--repl-diskless-sync", "no") as master_url:
        master_port = int(master_url.rsplit(":", 1)[1].split("/")[0])
        master = client(master_port)
        master.execute_command("DEBUG", "POPULATE", SLOW_KEYS)
        master.config_set("rdb-key-save-delay", 20)
        with populated() as replica_url:
            replica_port = int(replica_url.rsplit(":", 1)[1].split("/")[0])
            plane = DataPlane({"dataplane_addresses": {"m:6379": f"127.0.0.1:{master_port}",
                                                       "r:6379": f"127.0.0.1:{replica_port}"}})
            replica = client(replica_port)
            replica.replicaof("127.0.0.1", master_port)
            wait_until(lambda: replica.info("replication").get("master_sync_in_progress") == 1, what="a full sync")
            problems = plane.promotion_problems(_Db(), "m", ["r"])
            assert len(problems) == 1 and problems[0].startswith("r: ")
            with pytest.raises(DataPlaneError, match="no switchover yet: r: "):
                plane.failover(_Db(), "m", ["r"])
            master.config_set("rdb-key-save-delay", 0)
            wait_until(lambda: not plane.promotion_problems(_Db(), "m", ["r"]), timeout=60, what="caught up")
            assert replica.dbsize() == SLOW_KEYS


def test_a_sharded_master_is_switched_over_with_cluster_failover():
    """Item 5: sentinels do not watch sharded databases; the shard's own replica takes over."""
    cluster_args = ("--cluster-enabled", "yes", "--cluster-node-timeout", "5000")
    buses = [free_port(), free_port()]
    with populated(*cluster_args, "--cluster-port", str(buses[0])) as first, \
            populated(*cluster_args, "--cluster-port", str(buses[1])) as second:
        ports = [int(url.rsplit(":", 1)[1].split("/")[0]) for url in (first, second)]
        master, replica = client(ports[0]), client(ports[1])
        master.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        master.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[1], buses[1])
        master_id = master.execute_command("CLUSTER", "MYID")
        wait_until(lambda: master_id in replica.execute_command("CLUSTER", "NODES"), what="the nodes to meet")
        replica.execute_command("CLUSTER", "REPLICATE", master_id)
        wait_until(lambda: cluster_info(master.execute_command("CLUSTER", "INFO"))["cluster_state"] == "ok",
                   what="the cluster to serve its slots")
        for i in range(1000):
            master.set(f"{{k}}{i}", i)
        plane = DataPlane({"dataplane_addresses": {"db-0:6379": f"127.0.0.1:{ports[0]}",
                                                   "db-1:6379": f"127.0.0.1:{ports[1]}"}})
        wait_until(lambda: not plane.promotion_problems(_Db(), "db-0", ["db-1"]), what="the replica in sync")
        assert plane.cluster_failover(_Db(), "db-0", ["db-0", "db-1"]) == "db-1"
        wait_until(lambda: plane.roles(_Db(), ["db-0", "db-1"]) == {"db-0": "slave", "db-1": "master"},
                   what="CLUSTER FAILOVER")
        assert replica.dbsize() == 1000
        with pytest.raises(DataPlaneError, match="no replica"):
            plane.cluster_failover(_Db(), "db-1", ["db-1"])


def test_a_master_stopping_pauses_writes_until_a_replica_holds_every_one_then_lets_go():
    """preStop (HA inside the cluster): a deleted master acknowledges nothing more and waits for its replica."""
    _, container = rendered()
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    with ExitStack() as stack:
        master_port = int(stack.enter_context(populated()).rsplit(":", 1)[1].split("/")[0])
        replica_port = int(stack.enter_context(populated("--replicaof", "127.0.0.1", str(master_port)))
                           .rsplit(":", 1)[1].split("/")[0])
        master, replica = client(master_port), client(replica_port)
        wait_until(lambda: replica.info("replication")["master_link_status"] == "up", what="the replica's link")
        for start in range(0, 20_000, 1000):  # replicated writes (DEBUG POPULATE is not replicated)
            master.mset({f"key:{n}": n for n in range(start, start + 1000)})
        env = {"PATH": os.environ["PATH"], "REDISCLI_AUTH": PASSWORD, **OWN_LOGIN, "HANDOVER_SECONDS": "15"}
        # A replica stops at once, untouched.
        as_replica = subprocess.run(command, env={**env, "REDIS_PORT": str(replica_port)}, capture_output=True,
                                    text=True, timeout=30, check=False)
        assert as_replica.returncode == 0 and as_replica.stdout == ""
        started = time.monotonic()
        handover = subprocess.run(command, env={**env, "REDIS_PORT": str(master_port)}, capture_output=True,
                                  text=True, timeout=30, check=False)
        assert handover.returncode == 0 and "a replica holds offset" in handover.stdout, handover
        assert time.monotonic() - started < 15  # well before HANDOVER_SECONDS: it did not time out
        offset = master.info("replication")["master_repl_offset"]
        assert replica.info("replication")["slave_repl_offset"] == offset
        assert replica.dbsize() == master.dbsize() == 20_000
        # Writes are paused from then on: a client gets no acknowledgement (the pod then stops).
        blocked = redis.Redis(host="127.0.0.1", port=master_port, password=PASSWORD, socket_timeout=1,
                              retry=Retry(NoBackoff(), 0))
        with pytest.raises(redis.TimeoutError):
            blocked.set("late", "write")
        assert master.get("late") is None  # reads still answer
