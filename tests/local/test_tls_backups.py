"""Backups, restores and replicaSources of `tlsMode: enabled` databases on the local target: the control plane
reaches a TLS database's data like its other checks do (the master's plain port, loopback only, with a
password), clients keep TLS; every key comes back. Real redis-server processes and HAProxy."""
from __future__ import annotations

import pytest

from .test_backups import wait_in_sync
from .test_tls import tls_endpoint


@pytest.fixture(autouse=True)
def mount_root(settings, tmp_path):
    settings.CONTROLPLANE_BACKUP_MOUNT_ROOTS = [tmp_path]


def client_of(database, tmp_path):
    from databases.services import reveal_credentials

    ca_file = tmp_path / f"{database.name}-ca.crt"
    ca_file.write_text(reveal_credentials(database, actor="test").ca_certificate)
    return tls_endpoint(database, ca_file)


def test_a_tls_database_is_backed_up_and_restored_with_every_key(make_database, tmp_path):
    from backups import services

    database = make_database(tlsMode="enabled", replication=True, backup={"mount": {"path": str(tmp_path / "m")}})
    client = client_of(database, tmp_path)
    client.mset({f"key:{i}": f"value-{i}" for i in range(300)})
    run = services.backup_now(database, actor="test")
    assert run.ok, run.error
    client.delete(*[f"key:{i}" for i in range(0, 300, 2)])
    client.set("after-the-backup", 1)
    assert services.restore(database, actor="test", confirm=True).keys == 300
    assert client.mget([f"key:{i}" for i in range(300)]) == [f"value-{i}" for i in range(300)]
    assert client.get("after-the-backup") is None


def test_a_follower_of_a_tls_source_cuts_over_with_every_key(make_database, tmp_path):
    from backups import following, services

    source = make_database(name="old", tlsMode="enabled")
    copy = make_database(name="new", cluster=source.cluster, tlsMode="enabled",
                         replicaSources=[{"replicaSourceType": "REDB", "replicaSourceName": "old"}])
    writes = client_of(source, tmp_path)
    writes.mset({f"old:{i}": i for i in range(1000)})
    try:
        wait_in_sync(copy)
        writes.set("old:late", "x")  # written while following: the cut-over waits for it
        assert services.cut_over(copy, actor="test").keys == 1001
    finally:
        following.stop(copy.pk)
    target = client_of(copy, tmp_path)
    assert target.mget([f"old:{i}" for i in range(1000)]) == [str(i) for i in range(1000)]
    assert target.get("old:late") == "x"
