"""replicaSources from a TLS source (`rediss://` in a SECRET): the follower (a real redis-server replica) trusts
the CA of `serverCertSecret` and, for a mutual-TLS source, presents the certificate of `clientKeySecret`; every key
is read back after the cut-over. A missing secret is a status error with an event, never a traceback."""
from __future__ import annotations

import pytest
import redis
from django.core.management import call_command

from dataplane.certificates import new_ca, new_server_certificate
from targets.certificates import store_certificate_secret
from tests.servers import tls_redis_server

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


@pytest.mark.parametrize("mutual", [False, True], ids=["tls", "mutual-tls"])
def test_a_tls_source_is_followed_and_cut_over_with_every_key(make_database, monkeypatch, tmp_path, mutual):
    from backups import following, services, source_tls

    with _tls_source(tmp_path, mutual=mutual) as tls_source:
        source, tls_port = tls_source.client, tls_source.tls_port
        source.mset({f"k:{i}": i for i in range(500)})
        monkeypatch.setenv("SOURCE_REDIS_URI", f"rediss://:s3cret@127.0.0.1:{tls_port}")
        call_command("backup_secret", "old-redis", "--redis-uri")
        store_certificate_secret("old-redis-ca", CA.cert_pem)
        item = {"replicaSourceType": "SECRET", "replicaSourceName": "old-redis", "serverCertSecret": "old-redis-ca"}
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
        monkeypatch.setenv("SOURCE_REDIS_URI", f"rediss://:s3cret@127.0.0.1:{tls_port}")
        call_command("backup_secret", "old-redis", "--redis-uri")
        store_certificate_secret("old-redis-ca", CA.cert_pem)
        copy = make_database(name="new", replicaSources=[{
            "replicaSourceType": "SECRET", "replicaSourceName": "old-redis", "serverCertSecret": "old-redis-ca"}])
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
