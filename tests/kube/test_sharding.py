"""Sharded databases on a kubernetes target: the pods become one Redis Cluster through the data plane.

The emulator's pods are mapped (`dataplane_addresses`) to real cluster-enabled redis-servers.
"""
from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from core.errors import SpecError
from databases.services import update_database
from targets import managed

from ..servers import free_port, redis_server
from .test_dataplane import POD_DOMAIN, port_of
from .test_lifecycle import make_database, run, running_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def test_sharded_database_forms_a_redis_cluster_and_refuses_resharding(kube_env, team):
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, replication=True, memorySize="300MB")
    password = database.password
    with ExitStack() as stack:
        ports = []
        addresses = {}
        for ordinal in range(4):
            bus = free_port()
            url = stack.enter_context(redis_server("--cluster-enabled", "yes", "--cluster-port", str(bus),
                                                   "--requirepass", password, "--masterauth", password))
            ports.append(port_of(url))
            addresses[f"cache-{ordinal}.{POD_DOMAIN}:6379"] = f"127.0.0.1:{port_of(url)}"
            addresses[f"cache-{ordinal}.{POD_DOMAIN}:16379"] = f"127.0.0.1:{bus}"
        kube_env.target.settings = {**kube_env.target.settings, "dataplane_addresses": addresses}
        kube_env.target.save()

        run(database)
        kube_env.settle()
        deadline = time.monotonic() + 30
        while True:
            run(database)
            if database.state == managed.DB_ACTIVE:
                break
            assert database.state == managed.DB_PENDING, database.status
            assert time.monotonic() < deadline, database.status
            time.sleep(0.2)
        formed = next(c for c in database.status["conditions"] if c["type"] == "ClusterFormed")
        assert formed["status"] == "True"

        client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ports[0])], password=password,
                              decode_responses=True)
        for n in range(200):
            client.set(f"key:{n}", n)
        assert [client.get(f"key:{n}") for n in range(200)] == [str(n) for n in range(200)]
        roles = [redis.Redis(port=p, password=password).execute_command("ROLE")[0] for p in ports]
        assert roles == [b"master", b"master", b"slave", b"slave"]
        client.close()

        with pytest.raises(SpecError) as refused:  # the validator refuses it up front; nothing is stored
            update_database(database, spec={**database.spec, "shardCount": 3, "memorySize": "300MB"}, actor="test")
        assert "online resharding" in refused.value.errors["spec.shardCount"][0]
        database.refresh_from_db()
        assert database.spec["shardCount"] == 2
        run(database)
        assert database.state == managed.DB_ACTIVE
        assert kube_env.store.find("StatefulSet", "redis", "cache")["spec"]["replicas"] == 4


def test_sharded_database_without_data_plane_is_invalid(kube_env, team):
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, memorySize="200MB")
    run(database)
    assert database.state == managed.INVALID
    assert "data plane" in database.status["conditions"][0]["message"]
