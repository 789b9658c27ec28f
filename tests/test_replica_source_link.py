"""The replicaSources follower's link planner, without Redis: when the follower links, links again at the same
address (the source's certificates or login replaced), or does nothing."""
from __future__ import annotations

from backups.link_plan import (
    KEEP,
    LINK,
    LOGIN,
    RELINK,
    TLS,
    LinkMove,
    LinkSettings,
    login_digest,
    plan_link,
    tls_fingerprint,
)
from dataplane.certificates import new_ca, new_server_certificate

OLD_CA, NEW_CA = new_ca("source CA 1"), new_ca("source CA 2")
CLIENT = new_server_certificate(new_ca("throwaway"), "follower", ["localhost"])
KEY = "the follower's own password"


def settings(ca: str = OLD_CA.cert_pem, password: str = "s3cret", port: int = 6380) -> LinkSettings:
    return LinkSettings("10.0.0.5", port, tls_fingerprint(ca, CLIENT.cert_pem), login_digest(None, password, KEY))


def replica_of(host: str = "10.0.0.5", port: int = 6380) -> dict:
    return {"role": "slave", "master_host": host, "master_port": port, "master_link_status": "up"}


def test_a_follower_not_yet_replicating_the_address_links():
    assert plan_link({"role": "master"}, None, settings()) == LinkMove(LINK)
    assert plan_link(replica_of(port=6379), settings(port=6379).recorded(), settings()) == LinkMove(LINK)
    assert plan_link(replica_of(host="10.0.0.6"), settings().recorded(), settings()) == LinkMove(LINK)


def test_the_same_certificates_and_login_at_the_same_address_change_nothing():
    recorded = settings().recorded()
    assert plan_link(replica_of(), recorded, settings()) == LinkMove(KEEP)
    down = {**replica_of(), "master_link_status": "down"}  # a link down for another reason is Redis's to retry
    assert plan_link(down, recorded, settings()) == LinkMove(KEEP)


def test_a_replaced_certificate_or_login_at_the_same_address_links_again_and_says_what_changed():
    recorded = settings().recorded()
    assert plan_link(replica_of(), recorded, settings(ca=NEW_CA.cert_pem)) == LinkMove(RELINK, (TLS,))
    assert plan_link(replica_of(), recorded, settings(password="rotated")) == LinkMove(RELINK, (LOGIN,))
    assert plan_link(replica_of(), recorded, settings(ca=NEW_CA.cert_pem, password="rotated")) == \
        LinkMove(RELINK, (TLS, LOGIN))
    plain = LinkSettings("10.0.0.5", 6380, tls_fingerprint(), login_digest(None, "s3cret", KEY))
    assert plan_link(replica_of(), recorded, plain) == LinkMove(RELINK, (TLS,))  # rediss:// -> redis://


def test_a_linked_follower_without_a_record_links_once_more_then_keeps():
    assert plan_link(replica_of(), None, settings()) == LinkMove(RELINK)
    assert plan_link(replica_of(), {"host": "10.0.0.5", "port": 6379}, settings()) == LinkMove(RELINK)
    assert plan_link(replica_of(), settings().recorded(), settings()) == LinkMove(KEEP)


def test_the_record_holds_no_key_nor_password():
    recorded = str(settings().recorded())
    assert "s3cret" not in recorded and "PRIVATE" not in recorded and CLIENT.cert_pem not in recorded
    assert tls_fingerprint() == "" and tls_fingerprint(OLD_CA.cert_pem) != tls_fingerprint(NEW_CA.cert_pem)
    assert login_digest(None, "s3cret", KEY) != login_digest(None, "s3cret", "another follower")


def test_tls_sni_name_is_a_host_name_on_a_tls_secret_source_only():
    from core.validation import Problems
    from databases.replica_sources import check_replica_sources

    def errors(**item) -> dict:
        problems = Problems()
        check_replica_sources(problems, [{"replicaSourceType": "SECRET", "replicaSourceName": "old", **item}],
                              cluster=None, name="new")
        return problems.errors

    path = "spec.replicaSources[0]"
    assert errors(serverCertSecret="old-ca", tlsSniName="redis-12000.example.com") == {}
    assert list(errors(tlsSniName="redis.example.com")) == [f"{path}.serverCertSecret"]
    assert list(errors(serverCertSecret="old-ca", tlsSniName="bad name\nserver x")) == [f"{path}.tlsSniName"]
    assert list(errors(serverCertSecret="old-ca", tlsSniName=7)) == [f"{path}.tlsSniName"]
