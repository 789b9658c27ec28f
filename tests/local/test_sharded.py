"""Sharded databases (shardCount > 1) as a real Redis Cluster: formation, online resharding, failover."""
from __future__ import annotations

import redis
from redis.cluster import RedisCluster

from .conftest import settle
from .helpers import endpoint_port, kill9, wait_until


def cluster_client(database) -> RedisCluster:
    return RedisCluster(host="127.0.0.1", port=endpoint_port(database), password=database.password,
                        decode_responses=True, socket_timeout=2)


def test_a_sharded_database_is_a_redis_cluster_and_reshards_online_without_losing_keys(make_database):
    from databases.services import update_database

    database = make_database(shardCount=2, replication=True, memorySize="300MB")  # 100MB per shard at 3
    client = cluster_client(database)
    for i in range(2000):
        client.set(f"user:{i}", i)
    assert client.cluster_info()["cluster_state"] == "ok"

    update_database(database, spec={**database.spec, "shardCount": 3}, actor="test")
    assert settle(database, timeout=120).state == "active", database.status
    assert len(database.status["shardMasters"]) == 3
    client = cluster_client(database)
    assert [client.get(f"user:{i}") for i in range(2000)] == [str(i) for i in range(2000)]
    sizes = [redis.Redis(port=database.status["processes"][name]["port"], password=database.password).dbsize()
             for name in database.status["shardMasters"]]
    assert all(size > 400 for size in sizes) and sum(sizes) == 2000

    update_database(database, spec={**database.spec, "shardCount": 2}, actor="test")
    assert settle(database, timeout=120).state == "active", database.status
    assert sorted(database.status["processes"]) == ["shard-0-0", "shard-0-1", "shard-1-0", "shard-1-1"]
    client = cluster_client(database)
    assert [client.get(f"user:{i}") for i in range(2000)] == [str(i) for i in range(2000)]


def test_redis_cluster_promotes_a_replica_when_a_shard_master_dies(make_database):
    database = make_database(shardCount=3, replication=True, memorySize="300MB")
    client = cluster_client(database)
    for i in range(300):
        client.set(f"k{i}", i)
    assert wait_until(lambda: replicas_caught_up(database), timeout=10)  # the WAIT of a sharded database
    victim = database.status["shardMasters"][1]
    kill9(redis.Redis(port=database.status["processes"][victim]["port"], password=database.password))

    def readable():
        return [cluster_client(database).get(f"k{i}") for i in range(300)] == [str(i) for i in range(300)]

    assert wait_until(readable, timeout=20)
    assert settle(database, timeout=60).state == "active"
    assert database.status["shardMasters"][1] != victim
    assert database.status["processes"][victim]["role"] == "slave"


def test_a_sharded_database_upgrades_shard_by_shard(make_database):
    from databases.services import upgrade_database
    from timeline.models import Event

    database = make_database(shardCount=2, replication=True, memorySize="200MB", redisVersion="7.0")
    cluster_client(database).set("kept", "yes")
    upgrade_database(database, version="7.2", actor="test")
    assert settle(database, timeout=120).state == "active", database.status
    assert {p["version"] for p in database.status["processes"].values()} == {"7.2"}
    assert cluster_client(database).get("kept") == "yes"
    assert Event.objects.filter(object_kind="database", object_id=database.pk, reason="Switchover").count() == 2


def test_a_sharded_database_recovers_from_its_persistence_files(make_database, tmp_path):
    from django.core.management import call_command

    from .helpers import stop_everything

    database = make_database(shardCount=2, persistence="aofAlways", memorySize="200MB")
    client = cluster_client(database)
    for i in range(500):
        client.set(f"r{i}", i)
    stop_everything(tmp_path)

    call_command("recover", "all")

    database.refresh_from_db()
    assert database.state == "active"
    client = cluster_client(database)
    assert [client.get(f"r{i}") for i in range(500)] == [str(i) for i in range(500)]


def replicas_caught_up(database) -> bool:
    """Every shard master's replicas acknowledged everything it has (writes are replicated asynchronously)."""
    for name in database.status["shardMasters"]:
        info = redis.Redis(port=database.status["processes"][name]["port"], password=database.password).info(
            "replication")
        offsets = [info[key]["offset"] for key in info if key.startswith("slave") and isinstance(info[key], dict)]
        if not offsets or min(offsets) < info["master_repl_offset"]:
            return False
    return True
