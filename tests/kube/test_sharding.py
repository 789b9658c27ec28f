"""Sharded databases on a kubernetes target: the pods become one Redis Cluster through the data plane.

The emulator's pods are mapped (`dataplane_addresses`) to real cluster-enabled redis-servers.
"""
from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from core.drivers import driver_for
from core.errors import SpecError, TargetError
from databases.services import update_database, upgrade_database
from dataplane.cluster import myself, parse_nodes
from kube.render.database import render_database
from targets import managed

from ..servers import free_port, redis_server
from .test_dataplane import POD_DOMAIN, events, port_of
from .test_lifecycle import make_database, run, running_cluster

pytestmark = pytest.mark.django_db(transaction=True)


# The pods of a 2-shard replicated database `cache`: the shards' first pods, then their second.
PODS = ["cache-shard-0-0", "cache-shard-1-0", "cache-shard-0-1", "cache-shard-1-1"]


def pod_process(stack: ExitStack, kube_env, password: str, pod: str) -> int:
    """A cluster-enabled redis-server standing for pod `pod` (a fresh node id each time)."""
    bus = free_port()
    url = stack.enter_context(redis_server("--cluster-enabled", "yes", "--cluster-port", str(bus),
                                           "--cluster-node-timeout", "3000", "--requirepass", password,
                                           "--masterauth", password))
    addresses = dict(kube_env.target.settings.get("dataplane_addresses") or {})
    addresses[f"{pod}.{POD_DOMAIN}:6379"] = f"127.0.0.1:{port_of(url)}"
    addresses[f"{pod}.{POD_DOMAIN}:16379"] = f"127.0.0.1:{bus}"
    kube_env.target.settings = {**kube_env.target.settings, "dataplane_addresses": addresses}
    kube_env.target.save()
    return port_of(url)


def run_until_active(kube_env, database, *, allowed=(managed.DB_PENDING,), timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            run(database)
        except TargetError:
            if managed.ERROR not in allowed:
                raise
            database.refresh_from_db()
        if database.state == managed.DB_ACTIVE:
            return
        assert database.state in allowed, database.status
        assert time.monotonic() < deadline, database.status
        kube_env.settle()
        time.sleep(0.2)


def run_pods_until_active(stack: ExitStack, kube_env, database) -> list[int]:
    """The four pods of a 2-shard replicated `database` as redis-servers, reconciled until it is active
    (its Redis Cluster formed); the servers' ports, in the order of PODS."""
    ports = [pod_process(stack, kube_env, database.password, pod) for pod in PODS]
    run(database)
    kube_env.settle()
    run_until_active(kube_env, database)
    return ports


def roles_of(ports: list[int], password: str) -> list[str]:
    return [redis.Redis(port=p, password=password).execute_command("ROLE")[0].decode() for p in ports]


def cluster_client(port: int, password: str) -> RedisCluster:
    return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port)], password=password, decode_responses=True)


def test_sharded_database_is_a_statefulset_per_shard_and_reshards_online(kube_env, team):
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, replication=True, memorySize="300MB")
    password = database.password
    with ExitStack() as stack:
        ports = run_pods_until_active(stack, kube_env, database)
        formed = next(c for c in database.status["conditions"] if c["type"] == "ClusterFormed")
        assert formed["status"] == "True"
        # A StatefulSet per shard: required anti-affinity keeps a shard's copies apart, not different shards.
        for index in range(2):
            shard = kube_env.store.find("StatefulSet", "redis", f"cache-shard-{index}")
            assert shard["spec"]["replicas"] == 2
            term = shard["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
                "requiredDuringSchedulingIgnoredDuringExecution"][0]
            assert term["labelSelector"]["matchLabels"]["redis.io/shard"] == str(index)
        assert kube_env.store.find("StatefulSet", "redis", "cache") is None

        client = cluster_client(ports[0], password)
        for n in range(2000):
            client.set(f"key:{n}", n)
        assert roles_of(ports, password) == ["master", "master", "slave", "slave"]

        with pytest.raises(SpecError) as refused:  # the validator refuses it up front; nothing is stored
            update_database(database, spec={**database.spec, "shardCount": 1}, actor="test")
        assert "is a Redis Cluster and stays one" in refused.value.errors["spec.shardCount"][0]

        # 2 -> 3: the new shard's pods join, take a third of the slots with their keys, online.
        update_database(database, spec={**database.spec, "shardCount": 3, "memorySize": "450MB"}, actor="test")
        ports += [pod_process(stack, kube_env, password, pod) for pod in ("cache-shard-2-0", "cache-shard-2-1")]
        run_until_active(kube_env, database, allowed=(managed.DB_CHANGE_PENDING,), timeout=60)
        new_shard = redis.Redis(port=ports[4], password=password, decode_responses=True)
        assert new_shard.dbsize() > 500 and new_shard.execute_command("ROLE")[0] == "master"
        assert redis.Redis(port=ports[5], password=password).execute_command("ROLE")[0] == b"slave"
        assert "keys moved online to reach 3 shards" in events(database, "Resharded")[0]

        # 3 -> 2: shard 2 drains, its StatefulSet goes, its nodes are forgotten.
        update_database(database, spec={**database.spec, "shardCount": 2}, actor="test")
        run_until_active(kube_env, database, allowed=(managed.DB_CHANGE_PENDING,), timeout=60)
        assert kube_env.store.find("StatefulSet", "redis", "cache-shard-2") is None
        # Drained: it owns no slot. (Redis >= 7 turns a master whose last slot left into a replica of the node
        # that took it, so its data set may be a copy again by now: ownership is what says it was drained.)
        assert not myself(parse_nodes(new_shard.execute_command("CLUSTER", "NODES"))).slots
        info = redis.Redis(port=ports[0], password=password, decode_responses=True).execute_command("CLUSTER", "INFO")
        assert "cluster_state:ok" in info and "cluster_known_nodes:4" in info
        assert [client.get(f"key:{n}") for n in range(2000)] == [str(n) for n in range(2000)]
        client.close()


def test_sharded_database_without_data_plane_is_invalid(kube_env, team):
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, memorySize="200MB")
    run(database)
    assert database.state == managed.INVALID
    assert "data plane" in database.status["conditions"][0]["message"]


def test_sharded_rollout_switches_masters_with_cluster_failover_and_a_replaced_pod_rejoins(kube_env, team):
    """Item 5: sentinels do not watch sharded databases; the rollout asks each shard's replica to take
    over (CLUSTER FAILOVER), and a pod back on empty storage (a new node id) is introduced again."""
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, replication=True, memorySize="200MB",
                             redisVersion="7.2")
    password = database.password
    with ExitStack() as stack:
        ports = run_pods_until_active(stack, kube_env, database)
        client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ports[0])], password=password)
        for n in range(200):
            client.set(f"key:{n}", n)
        client.close()

        upgrade_database(database, version="7.4", actor="test")
        # A replica still syncing is refused as the new master (an Error, retried) until it caught up.
        run_until_active(kube_env, database, allowed=(managed.DB_CHANGE_PENDING, managed.ERROR), timeout=60)
        assert roles_of(ports, password) == ["slave", "slave", "master", "master"]
        masters = {p["metadata"]["name"] for p in kube_env.store.all_of("Pod", "redis", "redis.io/role=master")}
        assert masters == {"cache-shard-0-1", "cache-shard-1-1"}  # the Service follows Redis Cluster's masters

        # Pod cache-shard-1-0 comes back on empty storage: a new node id on a new address.
        with ExitStack() as replaced:
            ports[1] = pod_process(replaced, kube_env, password, PODS[1])
            stack.callback(replaced.pop_all().close)
        run_until_active(kube_env, database, allowed=(managed.DB_CHANGE_PENDING,), timeout=30)
        fresh = redis.Redis(port=ports[1], password=password, decode_responses=True)
        assert fresh.execute_command("ROLE")[0] == "slave"
        assert "cluster_known_nodes:4" in fresh.execute_command("CLUSTER", "INFO")
        client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ports[2])], password=password,
                              decode_responses=True)
        assert [client.get(f"key:{n}") for n in range(200)] == [str(n) for n in range(200)]
        client.close()


def test_a_move_left_half_done_by_a_killed_worker_is_finished_by_the_next_reconcile(kube_env, team):
    """What a worker killed mid-migration leaves: slots MIGRATING on the source and IMPORTING on the target,
    some of their keys already moved. The next reconcile finishes them from what CLUSTER NODES says."""
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, replication=False, memorySize="200MB")
    password = database.password
    with ExitStack() as stack:
        ports = [pod_process(stack, kube_env, password, pod) for pod in ("cache-shard-0-0", "cache-shard-1-0")]
        run(database)
        kube_env.settle()
        run_until_active(kube_env, database)
        client = cluster_client(ports[0], password)
        for n in range(2000):
            client.set(f"key:{n}", n)
        source, target = (redis.Redis(port=p, password=password, decode_responses=True) for p in ports)
        source_id, target_id = source.execute_command("CLUSTER", "MYID"), target.execute_command("CLUSTER", "MYID")
        slots = [slot for slot in range(200) if source.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot)]
        for slot in slots:
            target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
            source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        for slot in slots[: len(slots) // 2]:  # the worker died after moving half of them
            keys = source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
            source.execute_command("MIGRATE", "127.0.0.1", ports[1], "", 0, 5000, "AUTH", password, "KEYS", *keys)
        assert "->-" in source.execute_command("CLUSTER", "NODES")

        run_until_active(kube_env, database, allowed=(managed.DB_CHANGE_PENDING,), timeout=60)
        assert f"{len(slots)} slots left half moved by an interrupted reconcile were finished" in \
            events(database, "Resharded")
        for node in (source, target):
            assert "->-" not in node.execute_command("CLUSTER", "NODES")
            assert "-<-" not in node.execute_command("CLUSTER", "NODES")
        assert [client.get(f"key:{n}") for n in range(2000)] == [str(n) for n in range(2000)]
        client.close()


def legacy_statefulset(database) -> dict:
    """StatefulSet `<db>` of every shard's pods, as sharded databases were rendered before per-shard ones."""
    shard = next(m for m in render_database(database) if m["kind"] == "StatefulSet")
    shard["metadata"]["name"] = database.name
    for labels in (shard["metadata"]["labels"], shard["spec"]["selector"]["matchLabels"],
                   shard["spec"]["template"]["metadata"]["labels"]):
        labels.pop("redis.io/shard", None)
    shard["spec"]["replicas"] = database.typed_spec.process_count
    return shard


def test_a_sharded_database_of_one_statefulset_moves_onto_per_shard_statefulsets_online(kube_env, team):
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, replication=False, memorySize="200MB")
    password = database.password
    with ExitStack() as stack:
        old = [pod_process(stack, kube_env, password, f"cache-{i}") for i in range(2)]
        driver_for(kube_env.target).api.apply(legacy_statefulset(database))
        kube_env.settle()
        nodes = [redis.Redis(port=p, password=password, decode_responses=True) for p in old]
        nodes[1].execute_command("CLUSTER", "MEET", "127.0.0.1", old[0],
                                 nodes[0].config_get("cluster-port")["cluster-port"])
        nodes[0].execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 8191)
        nodes[1].execute_command("CLUSTER", "ADDSLOTSRANGE", 8192, 16383)
        deadline = time.monotonic() + 20
        while any("cluster_state:ok" not in node.execute_command("CLUSTER", "INFO") for node in nodes):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", old[0])], password=password,
                              decode_responses=True)
        for n in range(1000):
            client.set(f"key:{n}", n)

        for pod in ("cache-shard-0-0", "cache-shard-1-0"):
            pod_process(stack, kube_env, password, pod)
        run_until_active(kube_env, database, allowed=(managed.DB_PENDING, managed.DB_CHANGE_PENDING), timeout=90)
        assert "cache owned no slots any more" in events(database, "ShardsRemoved")[0]
        assert kube_env.store.find("StatefulSet", "redis", "cache") is None
        assert {s["metadata"]["name"] for s in kube_env.store.all_of("StatefulSet", "redis")} >= {
            "cache-shard-0", "cache-shard-1"}
        assert all(node.dbsize() == 0 for node in nodes)
        assert [client.get(f"key:{n}") for n in range(1000)] == [str(n) for n in range(1000)]
        client.close()


def test_a_plain_database_does_not_become_sharded_in_place(kube_env, team):
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, replication=False, memorySize="300MB")
    with pytest.raises(SpecError) as refused:
        update_database(database, spec={**database.spec, "shardCount": 3}, actor="test")
    assert "is a plain Redis server and cannot become sharded in place" in refused.value.errors["spec.shardCount"][0]
    assert "ossCluster: true" in refused.value.errors["spec.shardCount"][0]  # the way there


def test_an_oss_cluster_database_is_a_redis_cluster_from_one_shard_and_grows_online(kube_env, team):
    """`ossCluster: true`: one shard, already a Redis Cluster (its StatefulSet per shard, no sentinels), so
    1 -> 2 moves half the slots with their keys online; back to 1 drains the second shard."""
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=1, ossCluster=True, replication=False, memorySize="300MB")
    password = database.password
    with ExitStack() as stack:
        ports = [pod_process(stack, kube_env, password, "cache-shard-0-0")]
        run(database)
        kube_env.settle()
        run_until_active(kube_env, database)
        assert kube_env.store.find("StatefulSet", "redis", "cache-shard-0") is not None
        assert kube_env.store.find("StatefulSet", "redis", "cache") is None
        config = kube_env.store.find("ConfigMap", "redis", "cache-config")
        assert "cluster-enabled yes" in "".join(config["data"].values())
        client = cluster_client(ports[0], password)
        for n in range(1000):
            client.set(f"key:{n}", n)

        update_database(database, spec={**database.spec, "shardCount": 2, "memorySize": "600MB"}, actor="test")
        ports.append(pod_process(stack, kube_env, password, "cache-shard-1-0"))
        run_until_active(kube_env, database, allowed=(managed.DB_CHANGE_PENDING,), timeout=60)
        assert redis.Redis(port=ports[1], password=password).dbsize() > 250
        assert "keys moved online to reach 2 shards" in events(database, "Resharded")[0]

        update_database(database, spec={**database.spec, "shardCount": 1, "memorySize": "300MB"}, actor="test")
        run_until_active(kube_env, database, allowed=(managed.DB_CHANGE_PENDING,), timeout=60)
        assert kube_env.store.find("StatefulSet", "redis", "cache-shard-1") is None
        assert [client.get(f"key:{n}") for n in range(1000)] == [str(n) for n in range(1000)]
        client.close()
