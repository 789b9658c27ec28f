"""TLS on a sharded database on running pods (tests/kube/podrunner), issue 14: `tls-cluster yes` (the bus on
16380, speaking TLS), CLUSTER MEET to the TLS port and MIGRATE to it while resharding. A TLS cluster client
(trusting the cluster CA) follows the redirects to the pods' TLS ports; a plain one gets nothing there.
Needs root (skipped otherwise)."""
from __future__ import annotations

import base64
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from targets import managed

from .test_lifecycle import make_cluster, make_database
from .test_running_pods import NAMESPACE, converge, secret_password
from .test_sharded_pods import cluster_check, pod_ip, reshard

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = 2000


def tls_cluster_client(kube_env, database, ca_file: str) -> RedisCluster:
    return RedisCluster(startup_nodes=[ClusterNode(pod_ip(kube_env, f"{database.name}-shard-0-0"), 6380)],
                        password=secret_password(kube_env, database), decode_responses=True, socket_timeout=5,
                        ssl=True, ssl_ca_certs=ca_file, ssl_check_hostname=False)


def test_a_tls_redis_cluster_reshards_2_to_3_over_tls_and_keeps_every_key(kube_env, live_kube, team, tmp_path):
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, shardCount=2, replication=False, memorySize="200MB", tlsMode="enabled")
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    config = kube_env.store.find("ConfigMap", NAMESPACE, "cache-config")["data"]["redis.conf"]
    assert "tls-cluster yes" in config and "tls-port 6380" in config
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(base64.b64decode(kube_env.store.find("Secret", NAMESPACE, "cache-tls")["data"]["ca.crt"]))

    client = tls_cluster_client(kube_env, database, str(ca_file))
    # Redirects name the TLS ports to a TLS client: every node it learnt is on 6380.
    assert {node.port for node in client.get_nodes()} == {6380}
    for start in range(0, KEYS, 500):
        pipe = client.pipeline()
        for n in range(start, start + 500):
            pipe.set(f"key:{n}", str(n))
        pipe.execute()
    client.close()

    started = time.monotonic()
    reshard(kube_env, database, 3)  # CLUSTER MEET of the new shard at 6380, MIGRATE to 6380
    print(f"TLS Redis Cluster resharded 2 -> 3 with {KEYS} keys in {time.monotonic() - started:.1f} s")
    client = tls_cluster_client(kube_env, database, str(ca_file))
    values = client.mget_nonatomic([f"key:{n}" for n in range(KEYS)])
    assert values == [str(n) for n in range(KEYS)], f"{values.count(None)} of {KEYS} keys lost"
    client.close()
    moved = live_kube.exec(NAMESPACE, "cache-shard-2-0", ["redis-cli", "--no-auth-warning", "dbsize"],
                           env={"REDISCLI_AUTH": secret_password(kube_env, database)}).stdout.strip()
    assert int(moved) > KEYS // 5, moved  # the new shard got its third of the keys by MIGRATE over TLS
    check = cluster_check(kube_env, database)  # the control plane's own view: the plain port inside
    assert "[OK] All 16384 slots covered." in check and "[ERR]" not in check, check

    plain = redis.Redis(host=pod_ip(kube_env, "cache-shard-2-0"), port=6380, socket_timeout=3,
                        password=secret_password(kube_env, database))
    with pytest.raises(redis.ConnectionError):
        plain.ping()  # plain on the TLS port: refused
    plain.close()
