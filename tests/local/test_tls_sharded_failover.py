"""A sharded `tlsMode: enabled` database (Redis Cluster with tls-cluster, so tls-replication too: its replicas
link to the TLS ports the nodes announce) loses a shard master to kill -9:
Redis Cluster promotes its replica over the TLS bus (three shards: a master is marked failed only by a majority
of the masters, so two shards cannot fail over by themselves), and every acknowledged key reads back over TLS."""
from __future__ import annotations

from .conftest import settle
from .helpers import direct, kill9, wait_until
from .test_sharded import replicas_caught_up
from .test_tls_replication import ca_file_of, cluster_client


def test_a_tls_redis_cluster_fails_over_a_killed_shard_master_and_keeps_every_acknowledged_key(make_database,
                                                                                                tmp_path):
    database = make_database(shardCount=3, tlsMode="enabled", replication=True, memorySize="300MB")
    ca_file = ca_file_of(database, tmp_path)
    client = cluster_client(database, ca_file)
    for i in range(300):
        client.set(f"k{i}", i)  # acknowledged over TLS
    assert wait_until(lambda: replicas_caught_up(database), timeout=10)
    victim, other = database.status["shardMasters"][1], database.status["shardMasters"][0]
    victim_id = direct(database, victim).execute_command("CLUSTER", "MYID")
    kill9(direct(database, victim))

    def promoted() -> bool:
        """The killed master is marked failed (by a majority of masters, over the TLS bus) and its slots served."""
        survivor = direct(database, other)
        flags = {line.split()[0]: line.split()[2] for line in survivor.execute_command("CLUSTER", "NODES").splitlines()}
        return "fail" in flags[victim_id].split(",") and "cluster_state:ok" in survivor.execute_command(
            "CLUSTER", "INFO")

    assert wait_until(promoted, timeout=30)
    client = cluster_client(database, ca_file)
    assert [client.get(f"k{i}") for i in range(300)] == [str(i) for i in range(300)]
    assert settle(database, timeout=60).state == "active", database.status
    assert database.status["shardMasters"][1] != victim
    assert database.status["processes"][victim]["role"] == "slave"  # the killed master came back as a replica
