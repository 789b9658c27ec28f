"""Pure decisions behind replica_ssl and TLS Redis Clusters on the local target (no Redis): which sentinel group
watches a database, which port a link names, what each process is configured with, what is refused."""
from __future__ import annotations

from pathlib import Path

from localtarget import layout
from localtarget.driver import tls_mode_change_problems, tls_problems
from localtarget.haproxy import Endpoint
from localtarget.shards import DatabaseParts
from localtarget.tls import TlsFiles, sentinel_settings
from specs.database import DatabaseSpec

ROOT = Path("/var/x/rec/db")


def spec(**fields) -> DatabaseSpec:
    return DatabaseSpec.from_spec({"memorySize": "100MB", **fields}, name="db")


def parts(tls_mode: str, *, shard_count: int = 1, tls: bool = True) -> DatabaseParts:
    wanted = spec(tlsMode=tls_mode, replication=True, shardCount=shard_count)
    slots = layout.shard_slots(wanted)
    ports = {slot: 17000 + i for i, slot in enumerate(slots)}
    tls_ports = {slot: 17100 + i for i, slot in enumerate(slots)} if tls else {}
    return DatabaseParts(name="db", spec=wanted, version="7.0", password="pw",
                         processes=layout.shard_processes(ROOT, ports, tls_ports), retired=[], sentinels=[], quorum=2,
                         endpoint=Endpoint(ROOT / "endpoint", 12000), monitor="db-0", cluster_mode=shard_count > 1,
                         tls=TlsFiles(ROOT / "tls", "server-1") if tls else None)


def test_replica_ssl_databases_have_the_tls_sentinel_group_and_the_others_the_plain_one():
    assert layout.sentinel_group(spec(tlsMode="replica_ssl")) is layout.TLS_SENTINELS
    assert layout.sentinel_group(spec(tlsMode="enabled")) is layout.PLAIN_SENTINELS
    assert layout.sentinel_group(spec()) is layout.PLAIN_SENTINELS
    # Their registry keys never overlap: scaling or deleting one group never touches the other's ports.
    assert layout.PLAIN_SENTINELS.key("rec", 0) == layout.sentinel_key("rec", 0) == "cluster/rec/sentinel/0"
    assert not layout.TLS_SENTINELS.key("rec", 0).startswith(layout.PLAIN_SENTINELS.prefix("rec"))
    assert not layout.TLS_SENTINELS.tls_key("rec", 0).startswith(layout.TLS_SENTINELS.prefix("rec"))
    members = layout.sentinel_processes(Path("/var/x/rec"), [26400], "pw", layout.TLS_SENTINELS, [26401])
    assert members[0].name == "tls-sentinel-0" and members[0].tls_port == 26401
    assert members[0].directory == Path("/var/x/rec/_sentinels_tls/0")


def test_with_replica_ssl_links_name_the_tls_ports_and_the_sentinels_tls_port_maps_back():
    secure = parts("replica_ssl")
    assert secure.replication_tls and secure.replication_port(17000) == 17100
    assert secure.plain_port(17101) == 17001 and secure.plain_port(17001) == 17001
    assert secure.tls_settings(secure.processes[0])["tls-replication"] == "yes"
    enabled = parts("enabled")
    assert not enabled.replication_tls and enabled.replication_port(17000) == 17000
    assert enabled.tls_settings(enabled.processes[0])["tls-replication"] == "no"
    off = parts("disabled", tls=False)
    assert off.tls_settings(off.processes[0]) == {"tls-replication": "no", "tls-port": "0"}


def test_a_tls_redis_cluster_meets_and_migrates_on_tls_ports_with_tls_cluster():
    sharded = parts("enabled", shard_count=2)
    first = sharded.processes[0]
    assert sharded.bus_tls and sharded.cluster_port(first) == first.tls_port
    assert sharded.tls_settings(first)["tls-cluster"] == "yes"
    assert "tls-cluster" not in parts("enabled").tls_settings(parts("enabled").processes[0])
    plain = parts("disabled", shard_count=2, tls=False)
    assert plain.cluster_port(plain.processes[0]) == plain.processes[0].port


def test_the_tls_sentinel_group_speaks_tls_everywhere_and_wants_peer_certificates():
    settings = sentinel_settings(TlsFiles(Path("/t"), "server-1"), 26401)
    assert settings["tls-replication"] == "yes" and settings["tls-auth-clients"] == "yes"
    assert settings["tls-port"] == "26401" and settings["tls-ca-cert-file"] == "/t/ca.crt"
    member = layout.sentinel_process(Path("/var/x/rec"), 0, 26400, "pw", layout.TLS_SENTINELS, 26401)
    conf = layout.sentinel_conf(member, settings)
    assert 'tls-replication "yes"' in conf and "port 26400" in conf and 'tls-port "26401"' in conf


def test_what_the_local_target_refuses_about_tls():
    assert tls_problems(spec(tlsMode="replica_ssl", replication=True)) == {}
    assert tls_problems(spec(tlsMode="enabled", shardCount=2)) == {}
    mutual_sharded = tls_problems(spec(tlsMode="enabled", shardCount=2, clientAuthenticationCertificates=["ca"]))
    assert "could join the bus" in mutual_sharded["spec.clientAuthenticationCertificates"]
    sharded = spec(tlsMode="enabled", shardCount=2)
    assert tls_mode_change_problems(spec(tlsMode="replica_ssl", shardCount=2), sharded)["spec.tlsMode"].startswith(
        "a sharded database (Redis Cluster) keeps the tlsMode it was created with (enabled)")
    assert tls_mode_change_problems(sharded, sharded) == {}
    assert tls_mode_change_problems(spec(tlsMode="replica_ssl"), spec(tlsMode="enabled")) == {}  # moved live
