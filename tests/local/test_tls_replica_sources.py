"""replicaSources from a TLS source (`rediss://` in a SECRET): the follower (a real redis-server replica) trusts
the CA of `serverCertSecret` and, for a mutual-TLS source, presents the certificate of `clientKeySecret`; every key
is read back after the cut-over. A missing secret is a status error with an event, never a traceback."""
from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess

import pytest
import redis
from django.core.management import call_command

from dataplane.certificates import new_ca, new_server_certificate
from targets.certificates import store_certificate_secret
from tests.servers import free_port, tls_redis_server, wait_for_port

from .helpers import endpoint
from .test_backups import wait_in_sync

CA = new_ca("source CA")
SERVER = new_server_certificate(CA, "source", ["localhost", "127.0.0.1"])
CLIENTS_CA = new_ca("source clients CA")
CLIENT = new_server_certificate(CLIENTS_CA, "copy", ["localhost"])
NEXT_CA = new_ca("source CA, next")
NEXT_SERVER = new_server_certificate(NEXT_CA, "source", ["localhost", "127.0.0.1"])


def _tls_source(tmp_path, *, mutual: bool):
    """A redis-server with a TLS port (plain port kept for the test's own writes), mutual TLS if asked."""
    return tls_redis_server(tmp_path, CA.cert_pem, SERVER.cert_pem, SERVER.key_pem,
                            clients_ca_pem=CLIENTS_CA.cert_pem if mutual else "")


def _source_secrets(monkeypatch, tls_port: int) -> dict:
    """The source as the operator names it: Secret `old-redis` (its rediss:// uri) and certificate secret
    `old-redis-ca` (the CA to trust); returns the replicaSources item naming both."""
    monkeypatch.setenv("SOURCE_REDIS_URI", f"rediss://:s3cret@127.0.0.1:{tls_port}")
    call_command("backup_secret", "old-redis", "--redis-uri")
    store_certificate_secret("old-redis-ca", CA.cert_pem)
    return {"replicaSourceType": "SECRET", "replicaSourceName": "old-redis", "serverCertSecret": "old-redis-ca"}


@pytest.mark.parametrize("mutual", [False, True], ids=["tls", "mutual-tls"])
def test_a_tls_source_is_followed_and_cut_over_with_every_key(make_database, monkeypatch, tmp_path, mutual):
    from backups import following, services, source_tls

    with _tls_source(tmp_path, mutual=mutual) as tls_source:
        source, tls_port = tls_source.client, tls_source.tls_port
        source.mset({f"k:{i}": i for i in range(500)})
        item = _source_secrets(monkeypatch, tls_port)
        if mutual:
            store_certificate_secret("copy-client", CLIENT.cert_pem + CLIENTS_CA.cert_pem, CLIENT.key_pem)
            item["clientKeySecret"] = "copy-client"
        copy = make_database(name="new", replicaSources=[item])
        try:
            assert wait_in_sync(copy)["keys"] == 500
            follower = following.running(copy.pk).client()
            assert follower.info("replication")["master_port"] == tls_port  # the TLS port: the link is TLS
            folder = source_tls.folder_of(copy.pk)
            assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir() if p.suffix} == {
                "ca.crt": 0o600, "client.crt": 0o600, "client.key": 0o600}
            source.set("late", "x")  # written while following: the cut-over waits for it
            assert services.cut_over(copy, actor="test").keys == 501
        finally:
            following.stop(copy.pk)
        target = endpoint(copy)
        assert [target.get(f"k:{i}") for i in range(500)] == [str(i) for i in range(500)]
        assert target.get("late") == "x"
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            source.set("after", 1)  # fenced over TLS
        services.follow_replica_sources()
        assert not source_tls.folder_of(copy.pk).exists()  # no source: its TLS files are gone


def test_a_missing_ca_secret_is_a_status_error_and_bad_fields_are_refused(make_database, monkeypatch):
    from backups import services
    from core.errors import SpecError
    from timeline.models import Event

    monkeypatch.setenv("SOURCE_REDIS_URI", "rediss://:s3cret@127.0.0.1:1")
    call_command("backup_secret", "tls-redis", "--redis-uri")
    copy = make_database(name="new", replicaSources=[{"replicaSourceType": "SECRET", "replicaSourceName": "tls-redis",
                                                      "serverCertSecret": "nowhere"}])
    services.follow_replica_sources()
    copy.refresh_from_db()
    error = copy.status["replicaSourceStatus"]["error"]
    assert error.startswith("serverCertSecret nowhere does not exist") and "Traceback" not in error
    services.follow_replica_sources()  # the same error again: one event, not one a pass
    assert list(Event.objects.filter(object_id=copy.pk, reason="ReplicaSourceFailed").values_list(
        "message", flat=True)) == [error]
    with pytest.raises(SpecError) as refused:
        make_database(name="other", cluster=copy.cluster, replicaSources=[{
            "replicaSourceType": "REDB", "replicaSourceName": "new", "serverCertSecret": "x", "tlsSniName": "a.b"}])
    assert set(refused.value.errors) >= {"spec.replicaSources[0].serverCertSecret",
                                         "spec.replicaSources[0].tlsSniName"}


def _sync_counts(source: redis.Redis) -> tuple[int, int]:
    stats = source.info("stats")
    return int(stats["sync_full"]), int(stats["sync_partial_ok"])


def test_a_replaced_source_certificate_reaches_the_linked_follower(make_database, monkeypatch, tmp_path):
    """The source moves to a certificate from a new CA and its secret `serverCertSecret` is replaced: the next pass
    loads the new CA into the follower and links it again (an event, a partial resync), so the follower is in
    sync again with every key; an unchanged certificate links nothing again."""
    from backups import following, services
    from timeline.models import Event

    with _tls_source(tmp_path, mutual=False) as tls_source:
        source, tls_port = tls_source.client, tls_source.tls_port
        source.mset({f"k:{i}": i for i in range(300)})
        copy = make_database(name="new", replicaSources=[_source_secrets(monkeypatch, tls_port)])
        try:
            assert wait_in_sync(copy)["keys"] == 300
            follower = following.running(copy.pk).client()
            before = _sync_counts(source)
            services.follow_replica_sources()  # nothing changed: no new link
            assert _sync_counts(source) == before

            tls_source.serve(NEXT_SERVER.cert_pem, NEXT_SERVER.key_pem)  # from a new CA, loaded live
            source.mset({f"k:{i}": i for i in range(300, 400)})
            tls_source.end_replica_links(follower)  # the old CA cannot link again by itself
            store_certificate_secret("old-redis-ca", NEXT_CA.cert_pem)  # the team's replaced secret

            assert wait_in_sync(copy)["keys"] == 400
            assert follower.info("replication")["master_port"] == tls_port
            assert sorted(int(v) for v in follower.mget([f"k:{i}" for i in range(400)])) == list(range(400))
            assert _sync_counts(source)[0] == before[0]  # linked again with a partial resync: nothing copied again
            relinked = list(Event.objects.filter(object_id=copy.pk, reason="ReplicaSourceRelinked").values_list(
                "message", flat=True))
            assert len(relinked) == 1 and "TLS certificates" in relinked[0] and "BEGIN" not in relinked[0]
            counts = _sync_counts(source)
            services.follow_replica_sources()  # the same certificate again: idempotent
            assert _sync_counts(source) == counts
            assert Event.objects.filter(object_id=copy.pk, reason="ReplicaSourceRelinked").count() == 1
        finally:
            following.stop(copy.pk)


@contextlib.contextmanager
def sni_router(folder, name: str, tls_port: int):
    """A TLS-passthrough router (HAProxy, as an ingress with SSL passthrough) that sends a connection to the
    source only when its ClientHello names `name`, and closes every other; yields its port."""
    port = free_port()
    config = folder / "router.cfg"
    config.write_text("\n".join([
        "defaults", "    mode tcp", "    timeout connect 5s", "    timeout client 1m", "    timeout server 1m",
        "frontend router", f"    bind 127.0.0.1:{port}", "    tcp-request inspect-delay 5s",
        "    tcp-request content accept if { req_ssl_hello_type 1 }",
        f"    use_backend source if {{ req_ssl_sni -i {name} }}",
        "backend source", f"    server source 127.0.0.1:{tls_port}", ""]))
    router = subprocess.Popen([shutil.which("haproxy") or "/usr/sbin/haproxy", "-f", str(config)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port
    finally:
        router.terminate()
        router.wait(timeout=10)


def _ping_through(port: int, folder, sni: str | None) -> bytes:
    """PING over a TLS connection to `port` with the client certificate, sending `sni` (None: no SNI)."""
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(str(folder / "client.pem"), str(folder / "client.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=sni) as conn:
        conn.sendall(b"AUTH s3cret\r\nPING\r\n")
        answer = b""
        while not answer.endswith(b"+PONG\r\n"):
            chunk = conn.recv(100)
            if not chunk:
                raise OSError("closed")
            answer += chunk
        return answer[len(b"+OK\r\n"):]


def test_a_source_behind_an_sni_router_is_followed_through_the_relay_and_cut_over(make_database, monkeypatch,
                                                                                   tmp_path):
    """tlsSniName: redis-server sends no SNI, so a source an SNI router stands before (its certificate naming only
    that name) is reached through the relay, which sends it; mutual TLS through it too; a replaced CA restarts the
    relay on the same port and the follower links again; every key read back after the cut-over."""
    from backups import following, services, sni_relay, source_tls
    from timeline.models import Event

    named = new_server_certificate(CA, "source", ["source.example"])
    with tls_redis_server(tmp_path, CA.cert_pem, named.cert_pem, named.key_pem,
                          clients_ca_pem=CLIENTS_CA.cert_pem) as tls_source, \
            sni_router(tmp_path, "source.example", tls_source.tls_port) as router_port:
        for name, text in (("ca.pem", CA.cert_pem), ("client.pem", CLIENT.cert_pem), ("client.key", CLIENT.key_pem)):
            (tmp_path / name).write_text(text)
        assert _ping_through(router_port, tmp_path, "source.example") == b"+PONG\r\n"
        with pytest.raises((ssl.SSLError, OSError)):
            _ping_through(router_port, tmp_path, None)  # no SNI, as redis-server's link: closed by the router
        source = tls_source.client
        source.mset({f"k:{i}": i for i in range(300)})
        monkeypatch.setenv("SOURCE_REDIS_URI", f"rediss://:s3cret@127.0.0.1:{router_port}")
        call_command("backup_secret", "routed", "--redis-uri")
        store_certificate_secret("routed-ca", CA.cert_pem)
        store_certificate_secret("copy-client", CLIENT.cert_pem + CLIENTS_CA.cert_pem, CLIENT.key_pem)
        copy = make_database(name="new", replicaSources=[{
            "replicaSourceType": "SECRET", "replicaSourceName": "routed", "serverCertSecret": "routed-ca",
            "clientKeySecret": "copy-client", "tlsSniName": "source.example"}])
        try:
            assert wait_in_sync(copy)["keys"] == 300
            relay = source_tls.relay_folder(copy.pk)
            relay_port = json.loads((relay / sni_relay.STATE).read_text())["port"]
            replication = following.running(copy.pk).client().info("replication")
            assert (replication["master_host"], replication["master_port"]) == ("127.0.0.1", relay_port)
            assert {p.name: p.stat().st_mode & 0o777 for p in relay.iterdir()} == {
                "relay.cfg": 0o600, "relay.json": 0o600, "relay-client.pem": 0o600, "relay.pid": 0o600}
            renewed = new_server_certificate(NEXT_CA, "source", ["source.example"])
            tls_source.serve(renewed.cert_pem, renewed.key_pem)  # the source's next CA: the relay restarts with it
            source.set("renewed", "1")
            tls_source.end_replica_links(following.running(copy.pk).client())
            store_certificate_secret("routed-ca", NEXT_CA.cert_pem)
            assert wait_in_sync(copy)["keys"] == 301
            assert json.loads((relay / sni_relay.STATE).read_text())["port"] == relay_port  # the same address
            assert Event.objects.filter(object_id=copy.pk, reason="ReplicaSourceRelinked").count() == 1
            source.set("late", "x")
            assert services.cut_over(copy, actor="test").keys == 302
        finally:
            following.stop(copy.pk)
            source_tls.forget(copy.pk)
        assert not relay.exists() and sni_relay._running_pid(relay / "relay.pid", relay / "relay.cfg") is None
        target = endpoint(copy)
        assert [target.get(f"k:{i}") for i in range(300)] == [str(i) for i in range(300)]
        assert target.get("late") == "x"
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            source.set("after", 1)  # fenced through the relay
