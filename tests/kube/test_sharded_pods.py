"""Sharded databases on running pods (tests/kube/podrunner): online resharding under a writer, and a shard
failed over by Redis Cluster itself with its lost replica re-established.

A cluster client on this machine reaches the pods at the addresses Redis Cluster announces (pod IPs on
the runner's bridge), as an application inside the cluster would. Needs root (skipped otherwise).
"""
from __future__ import annotations

import random
import subprocess
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from databases.services import update_database
from targets import managed

from ..writers import BackgroundWriter
from .test_dataplane import events
from .test_lifecycle import make_cluster, make_database
from .test_running_pods import NAMESPACE, converge, secret_password

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = 5000


def pod_ip(kube_env, name: str) -> str:
    return kube_env.store.find("Pod", NAMESPACE, name)["status"]["podIP"]


def cluster_client(kube_env, database) -> RedisCluster:
    return RedisCluster(startup_nodes=[ClusterNode(pod_ip(kube_env, f"{database.name}-shard-0-0"), 6379)],
                        password=secret_password(kube_env, database), decode_responses=True, socket_timeout=5)


class ClusterWriter(BackgroundWriter):
    """Overwrites random keys of key:0..KEYS-1 with increasing values through a cluster client, retrying each
    write until it is acknowledged (MOVED/ASK are followed by the client; errors are counted)."""

    join_timeout = 30.0

    def __init__(self, connect):
        super().__init__()
        self.connect, self.client, self.last = connect, connect(), {f"key:{n}": "0" for n in range(KEYS)}
        self.writes = self.errors = 0

    def _run(self) -> None:
        chooser = random.Random(13)
        while not self.stopping:
            key, value = f"key:{chooser.randrange(KEYS)}", str(self.writes + 1)
            for _ in range(200):
                try:
                    self.client.set(key, value)
                    break
                except redis.RedisError:
                    self.errors += 1
                    time.sleep(0.05)
                except AttributeError:  # redis-py's cluster client losing a node mid-refresh: start afresh
                    self.errors += 1
                    self.client.close()
                    self.client = self.connect()
            else:
                raise AssertionError(f"a write of {key} never went through")
            self.last[key] = value
            self.writes += 1



def cluster_check(kube_env, database) -> str:
    """`redis-cli --cluster check` from the first shard's master: every slot covered, agreed on, none open."""
    first = pod_ip(kube_env, f"{database.name}-shard-0-0")
    answer = subprocess.run(["redis-cli", "--cluster", "check", f"{first}:6379"],
                            capture_output=True, text=True, timeout=30,
                            env={"REDISCLI_AUTH": secret_password(kube_env, database), "PATH": "/usr/bin:/bin"})
    return answer.stdout + answer.stderr


def reshard(kube_env, database, shards: int) -> None:
    update_database(database, spec={**database.spec, "shardCount": shards, "memorySize": f"{shards * 100}MB"},
                    actor="test")
    converge(database, lambda d: d.state == managed.DB_ACTIVE
             and {s["metadata"]["name"] for s in kube_env.store.all_of("StatefulSet", NAMESPACE)
                  if s["metadata"]["name"].startswith("cache-shard-")}
             == {f"cache-shard-{i}" for i in range(shards)}, timeout=180)


def test_resharding_3_to_5_to_2_on_pods_under_a_writer_keeps_every_acknowledged_value(kube_env, live_kube, team):
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, shardCount=3, replication=False, memorySize="300MB")
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    client = cluster_client(kube_env, database)
    for start in range(0, KEYS, 500):
        pipe = client.pipeline()
        for n in range(start, start + 500):
            pipe.set(f"key:{n}", "0")
        pipe.execute()

    with ClusterWriter(lambda: cluster_client(kube_env, database)) as writer:
        reshard(kube_env, database, 5)
        assert {live_kube.exec(NAMESPACE, f"cache-shard-{i}-0", ["redis-cli", "--no-auth-warning", "dbsize"],
                               env={"REDISCLI_AUTH": secret_password(kube_env, database)}).stdout.strip() != "0"
                for i in range(5)} == {True}
        during_growth = writer.writes
        reshard(kube_env, database, 2)
    assert writer.writes > during_growth > 0
    print(f"{writer.writes} acknowledged writes during 3 -> 5 -> 2, {writer.errors} client errors retried")
    said = " | ".join(events(database, "Resharded"))
    assert "to reach 5 shards" in said and "to reach 2 shards" in said, said
    assert any("cache-shard-4" in message for message in events(database, "ShardsRemoved"))

    client.close()
    client = cluster_client(kube_env, database)  # the writer's client followed the moves; this one starts afresh
    values = client.mget_nonatomic(list(writer.last))
    wrong = [key for key, value in zip(writer.last, values, strict=True) if value != writer.last[key]]
    assert wrong == [], f"{len(wrong)} of {KEYS} keys lost or stale after {writer.writes} writes"
    check = cluster_check(kube_env, database)
    assert "[OK] All 16384 slots covered." in check and "[ERR]" not in check and "[WARNING]" not in check, check
    info = client.execute_command("CLUSTER INFO", target_nodes=RedisCluster.RANDOM)
    assert info["cluster_known_nodes"] == "2", info  # the removed shards' nodes are forgotten
    client.close()


def test_an_oss_cluster_database_runs_as_a_one_shard_redis_cluster_in_pods_and_grows_to_two(kube_env, live_kube,
                                                                                            team):
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, shardCount=1, ossCluster=True, replication=False, memorySize="100MB")
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    client = cluster_client(kube_env, database)
    assert client.cluster_info()["cluster_state"] == "ok"
    client.mset_nonatomic({f"key:{n}": str(n) for n in range(1000)})
    reshard(kube_env, database, 2)
    client.close()
    client = cluster_client(kube_env, database)
    assert client.mget_nonatomic([f"key:{n}" for n in range(1000)]) == [str(n) for n in range(1000)]
    moved = live_kube.exec(NAMESPACE, "cache-shard-1-0", ["redis-cli", "--no-auth-warning", "dbsize"],
                           env={"REDISCLI_AUTH": secret_password(kube_env, database)}).stdout.strip()
    assert int(moved) > 250, moved
    check = cluster_check(kube_env, database)
    assert "[OK] All 16384 slots covered." in check and "[ERR]" not in check, check
    client.close()


def test_redis_cluster_fails_shards_over_and_their_lost_copies_come_back_as_replicas(kube_env, live_kube, team):
    """Two ways a shard master without persistence loses its data, on one database of three replicated shards
    (three masters: a failover needs the votes of a majority of them):
    - kill -9: the container restarts within cluster-node-timeout, empty but with its Redis Cluster identity
      (nodes.conf). Serving its slots empty, it would make its replica resync to nothing (171 of 500 keys
      lost before the start-up guard); it waits for Redis Cluster to fail the shard over, then rejoins as
      replica;
    - the pod deleted: it comes back on a new empty volume (emptyDir) as a new node, which the control
      plane introduces and makes a replica of its shard's new master.
    Each time the timeline says which pod Redis Cluster made master."""
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, shardCount=3, replication=True, memorySize="300MB")
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    # Six pods on the runner's three nodes: only a shard's own two copies must be apart.
    assert len(kube_env.store.all_of("Pod", NAMESPACE, "redis.io/database=cache")) == 6
    for shard in range(3):
        assert pods_node(kube_env, f"cache-shard-{shard}-0") != pods_node(kube_env, f"cache-shard-{shard}-1")
    client = cluster_client(kube_env, database)
    for n in range(500):
        client.set(f"key:{n}", n)
    client.close()
    password = {"REDISCLI_AUTH": secret_password(kube_env, database)}

    def in_sync(shard: int) -> bool:
        """The shard's replica has finished its first sync and holds what its master holds."""
        replica = live_kube.exec(NAMESPACE, f"cache-shard-{shard}-1", ["sh", "-c", "redis-cli --no-auth-warning "
                                 "info replication; redis-cli --no-auth-warning dbsize"], env=password).stdout
        master = live_kube.exec(NAMESPACE, f"cache-shard-{shard}-0", ["redis-cli", "--no-auth-warning", "dbsize"],
                                env=password).stdout.strip()
        return "master_link_status:up" in replica and replica.split()[-1] == master != "0"
    for shard in (0, 1):
        live_kube.wait_for(f"shard {shard}'s replica to be in sync", lambda shard=shard: in_sync(shard), 60)

    def role_of(pod: str) -> str:
        return live_kube.exec(NAMESPACE, pod, ["redis-cli", "--no-auth-warning", "role"], env=password).stdout

    def keys_intact(pod: str) -> None:
        client = cluster_client(kube_env, database)
        values = [client.get(f"key:{n}") for n in range(500)]
        client.close()
        assert values == [str(n) for n in range(500)], f"{values.count(None)} of 500 keys lost; {pod}: " \
            + live_kube.logs(NAMESPACE, pod)[-3000:]

    live_kube.kill(NAMESPACE, "cache-shard-0-0")
    converge(database, lambda d: d.state == managed.DB_ACTIVE and "cache-shard-0-1" in d.status["master"]
             and pod_of(kube_env, "cache-shard-0-0")["status"]["containerStatuses"][0].get("restartCount", 0) >= 1,
             timeout=120)
    keys_intact("cache-shard-0-0")
    assert role_of("cache-shard-0-0").split()[0] == "slave"

    assert role_of("cache-shard-1-0").split()[0] == "master"
    uid = pod_of(kube_env, "cache-shard-1-0")["metadata"]["uid"]
    live_kube.delete_pod(NAMESPACE, "cache-shard-1-0")
    converge(database, lambda d: d.state == managed.DB_ACTIVE and "cache-shard-1-1" in d.status["master"]
             and pod_of(kube_env, "cache-shard-1-0")["metadata"].get("uid", uid) != uid, timeout=120)
    keys_intact("cache-shard-1-0")
    role = role_of("cache-shard-1-0")
    assert role.split()[0] == "slave" and pod_ip(kube_env, "cache-shard-1-1") in role
    failovers = events(database, "ShardFailover")
    for shard in (0, 1):
        assert f"cache-shard-{shard}-1 is now master of shard {shard} (was cache-shard-{shard}-0): Redis Cluster " \
            "failed it over" in failovers
    check = cluster_check(kube_env, database)
    assert "[OK] All 16384 slots covered." in check and "[ERR]" not in check, check


def pod_of(kube_env, name: str) -> dict:
    return kube_env.store.find("Pod", NAMESPACE, name) or {"metadata": {}, "status": {"containerStatuses": [{}]}}


def pods_node(kube_env, name: str) -> str:
    return kube_env.store.find("Pod", NAMESPACE, name)["spec"]["nodeName"]
