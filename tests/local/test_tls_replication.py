"""Issue 14 on the local target: `tlsMode: replica_ssl` (replication and sentinel links over TLS, next to plain
databases of the same cluster), TLS on a sharded database (Redis Cluster, tls-cluster), and the cluster bus
refusing a node without a cluster-CA certificate. Real redis-server, redis-sentinel and HAProxy processes."""
from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from .conftest import settle
from .helpers import direct, endpoint, endpoint_port, kill9, master_name, wait_until
from .test_private_files import too_open

NO_RETRY = Retry(NoBackoff(), 0)


def ca_file_of(database, tmp_path):
    from databases.services import reveal_credentials

    path = tmp_path / f"{database.name}-ca.crt"
    path.write_text(reveal_credentials(database, actor="test").ca_certificate)
    return path


def tls_endpoint(database, ca_file, **kwargs) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=endpoint_port(database), password=database.password, ssl=True,
                       ssl_ca_certs=str(ca_file), socket_timeout=2, socket_connect_timeout=1, decode_responses=True,
                       retry=NO_RETRY, **kwargs)


def tls_ports(database) -> dict[str, int]:
    """Each process's TLS port, as the process itself says (CONFIG GET tls-port over its plain control port)."""
    return {name: int(direct(database, name).config_get("tls-port")["tls-port"])
            for name in database.status["processes"]}


def sentinel_groups(cluster) -> dict[str, list[redis.Redis]]:
    """The cluster's two sentinel groups, as connections to their members' (plain, loopback) ports."""
    from core.drivers import driver_for
    from localtarget import layout

    driver = driver_for(cluster.target)
    return {group.folder: [redis.Redis(port=member.port, password=cluster.admin_password, socket_timeout=2,
                                       decode_responses=True, retry=NO_RETRY)
                           for member in driver.allocated_sentinels(cluster, group)]
            for group in (layout.PLAIN_SENTINELS, layout.TLS_SENTINELS)}


def tls_sentinels(cluster):
    from core.drivers import driver_for
    from localtarget import layout

    return driver_for(cluster.target).allocated_sentinels(cluster, layout.TLS_SENTINELS)


def watched_by(members: list[redis.Redis], name: str) -> list[int]:
    """The master port each member of a group names for `name` (members not watching it are left out)."""
    ports = []
    for member in members:
        try:
            ports.append(int(member.sentinel_get_master_addr_by_name(name)[1]))
        except (redis.ResponseError, TypeError):
            pass
    return ports


def test_replica_ssl_replicates_over_tls_fails_over_and_moves_between_sentinel_groups(make_database, tmp_path):
    from clusters.models import Cluster
    from databases.services import update_database

    plain = make_database(name="plain", replication=True)
    cluster = Cluster.objects.get(pk=plain.cluster_id)
    database = make_database(name="secure", cluster=cluster, tlsMode="replica_ssl", replication=True)
    ca_file = ca_file_of(database, tmp_path)
    ports = tls_ports(database)
    master = master_name(database)
    replica = next(name for name in ports if name != master)

    # The replica's link goes to the master's TLS port, and the master lists the replica at its TLS port.
    link = direct(database, replica).info("replication")
    assert link["master_port"] == ports[master] and link["master_link_status"] == "up"
    assert direct(database, master).info("replication")["slave0"]["port"] == ports[replica]
    assert direct(database, master).config_get("tls-replication")["tls-replication"] == "yes"

    # The TLS group watches it at the TLS port; the plain group keeps watching the plain database only.
    groups = sentinel_groups(cluster)
    assert len(groups["_sentinels_tls"]) == 3
    assert watched_by(groups["_sentinels_tls"], "secure-0") == [ports[master]] * 3
    assert watched_by(groups["_sentinels"], "secure-0") == []
    assert len(watched_by(groups["_sentinels"], "plain-0")) == 3
    tls_group_ports = {member.tls_port for member in tls_sentinels(cluster)[1:]}
    assert wait_until(lambda: {int(peer["port"]) for peer in groups["_sentinels_tls"][0].sentinel_sentinels(
        "secure-0")} == tls_group_ports, timeout=10)  # the members find and reach each other over TLS

    client = tls_endpoint(database, ca_file)
    for i in range(200):
        client.set(f"key:{i}", i)
    assert client.wait(1, 2000) >= 1  # acknowledged by the replica
    kill9(direct(database, master))
    assert wait_until(lambda: tls_endpoint(database, ca_file).info("replication")["role"] == "master"
                      and tls_endpoint(database, ca_file).get("key:199") == "199", timeout=30)
    assert tls_endpoint(database, ca_file).mget([f"key:{i}" for i in range(200)]) == [str(i) for i in range(200)]
    assert settle(database).state == "active", database.status
    assert master_name(database) == replica  # the sentinels' choice: the only replica
    assert wait_until(lambda: direct(database, master).info("replication")["master_port"] == ports[replica]
                      and direct(database, master).info("replication")["master_link_status"] == "up", timeout=15)

    # Switching to plain replication keeps the data and hands the database to the plain group.
    update_database(database, spec={**database.spec, "tlsMode": "enabled"}, actor="test")
    assert settle(database).state == "active", database.status
    plain_port = database.status["processes"][replica]["port"]
    assert wait_until(lambda: watched_by(sentinel_groups(cluster)["_sentinels"], "secure-0") == [plain_port] * 3,
                      timeout=10)
    link = direct(database, master).info("replication")
    assert link["master_port"] == plain_port and link["master_link_status"] == "up"
    assert tls_endpoint(database, ca_file).mget([f"key:{i}" for i in range(200)]) == [str(i) for i in range(200)]
    assert settle(cluster).state == "Running"
    assert sentinel_groups(cluster)["_sentinels_tls"] == []  # no replica_ssl database left: the group is gone
    assert endpoint(plain).ping()


def cluster_client(database, ca_file) -> RedisCluster:
    return RedisCluster(host="127.0.0.1", port=endpoint_port(database), password=database.password, ssl=True,
                        ssl_ca_certs=str(ca_file), decode_responses=True, socket_timeout=5)


def test_a_tls_redis_cluster_sends_tls_clients_to_tls_ports_reshards_and_refuses_a_rogue_node(make_database,
                                                                                              tmp_path):
    from databases.services import update_database

    database = make_database(shardCount=2, tlsMode="replica_ssl", replication=True, memorySize="300MB")
    assert tls_sentinels(database.cluster) == []  # Redis Cluster fails over by itself: no sentinel group needed
    ca_file = ca_file_of(database, tmp_path)
    ports = tls_ports(database)
    client = cluster_client(database, ca_file)
    # CLUSTER SLOTS answers a TLS client with the TLS ports, a plain one (the control plane) with the plain ports.
    tls_slot_ports = {int(node[1]) for _slots, node in ((r[:2], r[2]) for r in client.execute_command(
        "CLUSTER", "SLOTS", target_nodes=RedisCluster.RANDOM))}
    assert len(tls_slot_ports) == 2 and tls_slot_ports <= set(ports.values())
    plain_slot_ports = {int(r[2][1]) for r in direct(database, "shard-0-0").execute_command("CLUSTER", "SLOTS")}
    assert plain_slot_ports <= {p["port"] for p in database.status["processes"].values()}
    for i in range(1000):
        client.set(f"user:{i}", i)

    update_database(database, spec={**database.spec, "shardCount": 3}, actor="test")
    assert settle(database, timeout=120).state == "active", database.status
    assert len(database.status["shardMasters"]) == 3
    client = cluster_client(database, ca_file)
    assert [client.get(f"user:{i}") for i in range(1000)] == [str(i) for i in range(1000)]
    assert direct(database, "shard-2-0").dbsize() > 200  # keys moved to the new shard (MIGRATE over TLS)
    ports = tls_ports(database)
    links = [direct(database, name).info("replication") for name in ports]
    links = [link for link in links if link["role"] == "slave"]
    assert len(links) == 3  # every shard's replica is linked to its master's TLS port (tls-replication yes)
    assert all(link["master_port"] in ports.values() and link["master_link_status"] == "up" for link in links)

    update_database(database, spec={**database.spec, "shardCount": 2}, actor="test")
    assert settle(database, timeout=120).state == "active", database.status
    assert sorted(database.status["processes"]) == ["shard-0-0", "shard-0-1", "shard-1-0", "shard-1-1"]
    client = cluster_client(database, ca_file)
    assert [client.get(f"user:{i}") for i in range(1000)] == [str(i) for i in range(1000)]
    ports = tls_ports(database)

    # The bus is authenticated (tls-cluster: Redis requires and verifies the peer's certificate on the bus, even
    # with tls-auth-clients no): a node whose certificate another CA signed is refused both ways (its MEET, and a
    # MEET to it), though it trusts the cluster CA (public: every client gets it), so only our nodes' checks can
    # stop it; a node with a cluster-CA certificate (here the database's own pair) is accepted in the same time.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(tmp_path / "rogue.key"), "-out", str(tmp_path / "rogue.crt"), "-subj", "/CN=rogue",
                    "-days", "1"], capture_output=True, check=True, timeout=30)
    tls_dir = next((tmp_path / "var").rglob("cache/tls"))
    pair = next(tls_dir.glob("server-*.crt"))
    rogue = bus_node(tmp_path / "rogue", tmp_path / "rogue.crt", tmp_path / "rogue.key", tls_dir / "ca.crt")
    friend = bus_node(tmp_path / "friend", pair, pair.with_suffix(".key"), tls_dir / "ca.crt")
    try:
        for node in (rogue, friend):
            node.execute_command("CLUSTER", "MEET", "127.0.0.1", ports["shard-0-0"])
        direct(database, "shard-1-0").execute_command("CLUSTER", "MEET", "127.0.0.1", port_of(rogue))
        assert wait_until(lambda: linked(direct(database, "shard-0-0"), port_of(friend)), timeout=15)
        assert not wait_until(lambda: linked(direct(database, "shard-0-0"), port_of(rogue))
                              or linked(direct(database, "shard-1-0"), port_of(rogue)), timeout=3)
        assert not linked(rogue, ports["shard-0-0"]) and not linked(rogue, ports["shard-1-0"])
        # The handshake itself, on the bus port of a node that runs with tls-auth-clients no:
        bus = ports["shard-0-0"] + 10000
        assert bus_verdict(bus, tls_dir / "ca.crt") == "TLSV13_ALERT_CERTIFICATE_REQUIRED"
        assert bus_verdict(bus, tls_dir / "ca.crt", tmp_path / "rogue.crt", tmp_path / "rogue.key") == \
            "TLSV1_ALERT_UNKNOWN_CA"
        assert bus_verdict(bus, tls_dir / "ca.crt", pair, pair.with_suffix(".key")) == "accepted"
    finally:
        for node in (rogue, friend):
            with contextlib.suppress(redis.ConnectionError):
                node.shutdown(nosave=True)


def bus_node(directory, cert, key, ca) -> redis.Redis:
    """A stray Redis Cluster node speaking TLS on the bus with the given certificate, on a free port."""
    from localtarget.ports import port_range

    directory.mkdir()
    port = next(p for p in reversed(port_range("shard")) if not _listening(p) and not _listening(p + 10000)
                and not (directory.parent / f"port-{p}").exists())
    (directory.parent / f"port-{port}").touch()  # two nodes started back to back pick different ports
    (directory / "redis.conf").write_text("\n".join([
        "bind 127.0.0.1", "port 0", f"tls-port {port}", "daemonize yes", f'dir "{directory}"',
        f'pidfile "{directory / "redis.pid"}"', f'logfile "{directory / "redis.log"}"', "cluster-enabled yes",
        f'cluster-config-file "{directory / "nodes.conf"}"', "tls-cluster yes", "tls-replication yes",
        f'tls-cert-file "{cert}"', f'tls-key-file "{key}"', f'tls-ca-cert-file "{ca}"', "tls-auth-clients no"]) + "\n")
    subprocess.run(["redis-server", str(directory / "redis.conf")], check=True, timeout=10, umask=0o077)
    node = redis.Redis(port=port, ssl=True, ssl_cert_reqs="none", socket_timeout=2, decode_responses=True,
                       retry=NO_RETRY)
    assert wait_until(node.ping, timeout=10)
    return node


def bus_verdict(port: int, ca, cert=None, key=None) -> str:
    """What a cluster bus port says to a TLS client showing `cert` (or none): the alert's name, or "accepted"
    (the bus then waits for a message). With TLS 1.3 the server's verdict on the client's certificate comes
    after the handshake, with the first read."""
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    if cert:
        context.load_cert_chain(str(cert), str(key))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(raw) as tls:
        tls.settimeout(2)
        try:
            tls.recv(1)
        except ssl.SSLError as exc:
            return exc.reason or str(exc)
        except TimeoutError:
            return "accepted"
    return "closed"


def port_of(node: redis.Redis) -> int:
    return node.connection_pool.connection_kwargs["port"]


def linked(node: redis.Redis, port: int) -> bool:
    """Whether `node` lists the node on `port` (either port of it) as a connected peer past the handshake."""
    for line in node.execute_command("CLUSTER", "NODES").splitlines():
        fields = line.split()
        address = fields[1].split("@")[0].rsplit(":", 1)[1]
        if int(address) == port and "handshake" not in fields[2] and fields[7] == "connected":
            return True
    return False


def _listening(port: int) -> bool:
    from localtarget.ports import is_listening

    return is_listening(port)


def test_a_plain_database_moves_to_replica_ssl_with_its_data_and_the_tls_group_restarts_and_renews(
        make_database, settings, tmp_path):
    from clusters.models import Cluster
    from databases.services import update_database
    from engine.reconcile import reconcile
    from localtarget import processes
    from timeline.models import Event

    database = make_database(name="secure", replication=True)
    cluster = Cluster.objects.get(pk=database.cluster_id)
    for i in range(100):
        endpoint(database).set(f"key:{i}", i)
    assert endpoint(database).wait(1, 2000) >= 1
    update_database(database, spec={**database.spec, "tlsMode": "replica_ssl"}, actor="test")
    assert settle(database).state == "active", database.status
    ports = tls_ports(database)
    master = master_name(database)
    link = next(direct(database, name).info("replication") for name in ports if name != master)
    assert link["master_port"] == ports[master] and link["master_link_status"] == "up"
    assert watched_by(sentinel_groups(cluster)["_sentinels_tls"], "secure-0") == [ports[master]] * 3
    assert watched_by(sentinel_groups(cluster)["_sentinels"], "secure-0") == []
    ca_file = ca_file_of(database, tmp_path)
    assert tls_endpoint(database, ca_file).mget([f"key:{i}" for i in range(100)]) == [str(i) for i in range(100)]
    reasons = set(Event.objects.filter(object_kind="database", object_id=database.pk).values_list("reason", flat=True))
    assert {"ReplicationRelinked", "SentinelGroupChanged"} <= reasons

    # A member killed -9 is started again by the cluster's pass, with its TLS settings.
    members = tls_sentinels(cluster)
    kill9(sentinel_groups(cluster)["_sentinels_tls"][1])
    assert settle(cluster).state == "Running", cluster.status
    assert sentinel_groups(cluster)["_sentinels_tls"][1].ping()

    before = {processes.configured_value(member, "tls-cert-file") for member in members}
    assert len(before) == 1
    settings.CONTROLPLANE_TLS_RENEW_DAYS = 365  # longer than a certificate lives: due now, for one pass
    reconcile("cluster", cluster.pk)
    settings.CONTROLPLANE_TLS_RENEW_DAYS = 30
    assert settle(cluster).state == "Running", cluster.status
    after = {processes.configured_value(member, "tls-cert-file") for member in members}
    assert len(after) == 1 and after != before  # every member restarted with the new pair, one per pass
    assert not Path(before.pop()).exists()  # the old pair is gone once no member uses it
    renewed = Event.objects.filter(object_kind="cluster", object_id=cluster.pk, reason="CertificateRenewed")
    assert renewed.count() == len(members)
    assert wait_until(lambda: {int(peer["port"]) for peer in sentinel_groups(cluster)["_sentinels_tls"][0]
                               .sentinel_sentinels("secure-0")} == {member.tls_port for member in members[1:]},
                      timeout=10)  # the members still reach each other over TLS
    assert too_open(tmp_path / "var") == []  # the TLS group's key and configs are private like the rest
    assert list((tmp_path / "var").rglob("_sentinels_tls/tls/server-*.key"))


def test_a_mutual_tls_replica_ssl_database_upgrades_with_a_switchover_and_keeps_its_tls_links(make_database,
                                                                                             tmp_path):
    """With mutual TLS, replicas and the TLS sentinels show their cluster-CA certificates to the shards' TLS ports
    (the client CA bundle holds the cluster CA): the rolling upgrade's restarts and switchover go through them."""
    from django.core.management import call_command

    from databases.services import update_database, upgrade_database
    from dataplane.certificates import new_ca, new_server_certificate
    from timeline.models import Event

    app_ca = new_ca("app team CA")
    (tmp_path / "app-ca.pem").write_text(app_ca.cert_pem)
    call_command("certificate_secret", "app-clients", "--cert", str(tmp_path / "app-ca.pem"))
    app = new_server_certificate(app_ca, "app", ["app"])
    (tmp_path / "app.crt").write_text(app.cert_pem)
    (tmp_path / "app.key").write_text(app.key_pem)
    mutual = {"ssl_certfile": str(tmp_path / "app.crt"), "ssl_keyfile": str(tmp_path / "app.key")}
    database = make_database(name="secure", tlsMode="replica_ssl", replication=True, redisVersion="7.0",
                             clientAuthenticationCertificates=["app-clients"])
    ca_file = ca_file_of(database, tmp_path)
    with pytest.raises(redis.ConnectionError):
        tls_endpoint(database, ca_file).ping()  # no client certificate: refused
    client = tls_endpoint(database, ca_file, **mutual)
    for i in range(100):
        client.set(f"key:{i}", i)
    assert client.wait(1, 2000) >= 1
    first_master = master_name(database)

    upgrade_database(database, version="7.2", actor="test")
    assert settle(database, timeout=90).state == "active", database.status
    assert {p["version"] for p in database.status["processes"].values()} == {"7.2"}
    assert Event.objects.filter(object_kind="database", object_id=database.pk, reason="Switchover").exists()
    master = master_name(database)
    assert master != first_master  # the sentinels (TLS group) moved the role for the old master's restart
    ports = tls_ports(database)
    link = direct(database, first_master).info("replication")
    assert link["master_port"] == ports[master] and link["master_link_status"] == "up"
    assert tls_endpoint(database, ca_file, **mutual).mget([f"key:{i}" for i in range(100)]) == [
        str(i) for i in range(100)]

    # Straight to plain (tlsMode disabled): the TLS ports close after the link moved to the master's plain port.
    update_database(database, spec={**database.spec, "tlsMode": "disabled", "clientAuthenticationCertificates": []},
                    actor="test")
    assert settle(database).state == "active", database.status
    link = direct(database, first_master).info("replication")
    assert link["master_port"] == database.status["processes"][master]["port"] and link["master_link_status"] == "up"
    assert all(port == 0 for port in tls_ports(database).values())
    assert endpoint(database).mget([f"key:{i}" for i in range(100)]) == [str(i) for i in range(100)]
