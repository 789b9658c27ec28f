"""The backup endpoints' answers when nothing runs: field-level 400s for bad settings, 409 for a failed backup."""
from __future__ import annotations

import pytest

from backups.models import BackupRun

pytestmark = pytest.mark.django_db


def test_backup_settings_are_checked_and_a_failed_backup_is_a_409_with_the_reason(member_api, cluster, settings,
                                                                                   tmp_path):
    settings.CONTROLPLANE_BACKUP_MOUNT_ROOTS = [tmp_path]
    base = f"/api/v1/clusters/{cluster.name}/databases/"
    refused = member_api.post(base, {"name": "orders", "spec": {"backup": {
        "interval": 3600, "mount": {"path": "/etc"}, "gcs": {"bucketName": "b", "gcsSecretName": "s"}}}},
        format="json")
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert "not supported yet" in errors["spec.backup.gcs"][0]
    assert "must be inside" in errors["spec.backup.mount.path"][0]

    created = member_api.post(base, {"name": "orders", "spec": {"backup": {
        "interval": 3600, "mount": {"path": str(tmp_path / "b")}}}}, format="json")
    assert created.status_code == 201, created.json()
    failed = member_api.post(f"{base}orders/backup/")  # nothing runs: no master to copy from
    assert failed.status_code == 409 and failed.json()["backup"]["ok"] is False
    assert "failed" in failed.json()["detail"]
    assert BackupRun.objects.get().error
    listed = member_api.get(f"{base}orders/backups/").json()
    assert listed["backups"] == [] and listed["backupInfo"]["lastError"]
    assert member_api.post(f"{base}orders/restore/", {"confirm": "maybe"}, format="json").status_code == 400

    member_api.post(base, {"name": "plain", "spec": {}}, format="json")
    nothing = member_api.post(f"{base}plain/backup/")
    assert nothing.status_code == 400 and "no spec.backup location" in nothing.json()["errors"]["spec.backup"][0]


@pytest.mark.parametrize("sources, field, message", [
    ([{"replicaSourceType": "REDB", "replicaSourceName": "a"}, {"replicaSourceType": "REDB",
                                                                "replicaSourceName": "b"}],
     "spec.replicaSources", "one source at a time"),
    ([{"replicaSourceType": "URI", "replicaSourceName": "uri"}], "spec.replicaSources[0].replicaSourceType",
     "not one of: REDB, SECRET"),
    ([{"replicaSourceType": "SECRET", "replicaSourceName": "Bad_Name"}], "spec.replicaSources[0].replicaSourceName",
     "DNS-1123"),
    ([{"replicaSourceType": "REDB", "replicaSourceName": "nowhere"}], "spec.replicaSources[0].replicaSourceName",
     "no database named nowhere"),
    ([{"replicaSourceType": "REDB", "replicaSourceName": "copy"}], "spec.replicaSources[0].replicaSourceName",
     "cannot follow itself"),
    ([{"replicaSourceType": "REDB", "replicaSourceName": "sharded"}], "spec.replicaSources[0].replicaSourceName",
     "only a single-shard database"),
    ([{"replicaSourceType": "REDB"}], "spec.replicaSources[0].replicaSourceName", "required"),
    ([{"replicaSourceType": "REDB", "replicaSourceName": "plain", "compression": "high"}],
     "spec.replicaSources[0].compression", "whole number"),
])
def test_replica_sources_are_refused_field_by_field(member_api, cluster, sources, field, message):
    base = f"/api/v1/clusters/{cluster.name}/databases/"
    assert member_api.post(base, {"name": "plain", "spec": {}}, format="json").status_code == 201
    assert member_api.post(base, {"name": "sharded", "spec": {"shardCount": 2, "memorySize": "200MB"}},
                           format="json").status_code == 201
    refused = member_api.post(base, {"name": "copy", "spec": {"replicaSources": sources}}, format="json")
    assert refused.status_code == 400
    assert any(message in m for m in refused.json()["errors"].get(field, [])), refused.json()


def test_a_database_may_follow_another_and_cut_over_only_when_it_does(member_api, cluster):
    base = f"/api/v1/clusters/{cluster.name}/databases/"
    member_api.post(base, {"name": "plain", "spec": {}}, format="json")
    created = member_api.post(base, {"name": "copy", "spec": {"replicaSources": [
        {"replicaSourceType": "REDB", "replicaSourceName": "plain", "compression": 3}]}}, format="json")
    assert created.status_code == 201, created.json()
    assert any("compression" in w for w in created.json().get("warnings", [])), created.json()
    refused = member_api.post(f"{base}plain/cutover/", {}, format="json")
    assert refused.status_code == 400 and "no spec.replicaSources" in refused.json()["errors"]["spec.replicaSources"][0]


def test_s3_credentials_are_stored_encrypted_from_the_environment_and_never_shown(db, monkeypatch, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connection

    from backups.models import StorageSecret

    with pytest.raises(CommandError, match="AWS_SECRET_ACCESS_KEY"):
        call_command("backup_secret", "aws-creds")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-key-123")
    call_command("backup_secret", "aws-creds", "--endpoint-url", "http://127.0.0.1:9000")
    assert "very-secret-key-123" not in capsys.readouterr().out
    assert StorageSecret.objects.get().values()["secretAccessKey"] == "very-secret-key-123"
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM backups_storagesecret")
        assert "very-secret-key-123" not in cursor.fetchone()[0]  # encrypted at rest
    call_command("backup_secret", "aws-creds", "--delete")
    assert not StorageSecret.objects.exists()
