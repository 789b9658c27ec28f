"""Backups without Redis: the planner, the manifest's checks and the spec rules."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from backups import manifest, plan
from core.validation import Problems
from databases.backup_spec import BackupConfig, check_backup

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_a_backup_is_due_once_its_interval_has_passed_since_the_last_success():
    hour = 3600
    assert plan.is_due(hour, None, None, False, NOW)  # never backed up
    assert not plan.is_due(hour, NOW - timedelta(minutes=59), NOW - timedelta(minutes=59), False, NOW)
    assert plan.is_due(hour, NOW - timedelta(minutes=60), NOW - timedelta(minutes=60), False, NOW)
    assert not plan.is_due(None, None, None, False, NOW)  # no interval: only on demand


def test_a_failed_backup_is_retried_after_five_minutes_not_in_a_loop_nor_after_a_whole_interval():
    day = 86400
    failed_at = NOW - timedelta(minutes=4)
    assert not plan.is_due(day, NOW - timedelta(days=2), failed_at, True, NOW)
    assert plan.is_due(day, NOW - timedelta(days=2), NOW - timedelta(minutes=5), True, NOW)
    assert plan.next_run(120, None, failed_at, True) == failed_at + timedelta(seconds=120)


def test_retention_removes_the_oldest_beyond_the_count():
    names = [manifest.backup_name(NOW + timedelta(hours=h)) for h in (3, 1, 2, 0)]
    assert plan.expired(names, 2) == sorted(names)[:2]
    assert plan.expired(names, 10) == []
    assert plan.expired(names, 0) == sorted(names)[:3]  # at least one is always kept


def test_slot_ranges_are_compact():
    assert manifest.slot_ranges([5, 0, 1, 2, 8, 9]) == [[0, 2], [5, 5], [8, 9]]


def test_a_manifest_refuses_a_changed_or_missing_file(tmp_path):
    rdb = tmp_path / "shard-0.rdb"
    rdb.write_bytes(b"REDIS0009 some bytes")
    built = manifest.build(name="n", cluster="c", database="d", version="7.2", time=NOW,
                           shards=[{"shard": 0, "slots": [[0, 16383]], "keys": 1}], files={0: rdb}, duration=0.1)
    assert manifest.verify(json.loads(json.dumps(built)), tmp_path)["size"] == rdb.stat().st_size
    rdb.write_bytes(b"REDIS0009 some bytez")
    with pytest.raises(manifest.CorruptBackup, match="checksum"):
        manifest.verify(built, tmp_path)
    rdb.unlink()
    with pytest.raises(manifest.CorruptBackup, match="missing"):
        manifest.verify(built, tmp_path)
    with pytest.raises(manifest.CorruptBackup, match="manifest"):
        manifest.verify(None, tmp_path)


@pytest.mark.parametrize(("backup", "path", "message"), [
    ({"interval": 3600, "gcs": {"bucketName": "b", "gcsSecretName": "s"}}, "spec.backup.gcs", "not supported yet"),
    ({"interval": 3600}, "spec.backup", "mount and/or s3"),
    ({"interval": 10, "mount": {"path": "/b"}}, "spec.backup.interval", "at least 60"),
    ({"mount": {"path": "relative/dir"}}, "spec.backup.mount.path", "absolute"),
    ({"mount": {"path": "/etc/cron.d"}}, "spec.backup.mount.path", "must be inside /srv/backups"),
    ({"mount": {"path": "/srv/backups-evil"}}, "spec.backup.mount.path", "must be inside /srv/backups"),
    ({"s3": {"awsSecretName": "Bad_Name", "bucketName": "b"}}, "spec.backup.s3.awsSecretName", "DNS-1123"),
    ({"s3": {"awsSecretName": "aws", "bucketName": "UPPER"}}, "spec.backup.s3.bucketName", "bucket"),
])
def test_backup_settings_are_refused_with_a_field_level_message(backup, path, message):
    problems = Problems()
    check_backup(problems, backup, mount_roots=["/srv/backups"])
    assert any(message in m for m in problems.errors.get(path, [])), problems.errors


def test_a_mount_path_inside_an_allowed_root_is_accepted():
    problems = Problems()
    check_backup(problems, {"interval": 60, "mount": {"path": "/srv/backups/team-a"}}, mount_roots=["/srv/backups"])
    assert not problems


def test_config_reads_interval_and_locations():
    config = BackupConfig.from_spec({"backup": {"interval": 3600, "mount": {"path": "/b"},
                                                "s3": {"awsSecretName": "aws", "bucketName": "bk", "subdir": "x"}}})
    assert (config.interval, config.mount_path, config.s3.bucket, config.s3.subdir) == (3600, "/b", "bk", "x")
    assert config.locations == ["mount", "s3"]
    assert BackupConfig.from_spec({}) is None


@pytest.mark.parametrize("uri, expected", [
    ("redis://10.0.0.5:6380", ("10.0.0.5", 6380, None)),
    ("redis://:p%40ss@old-redis", ("old-redis", 6379, "p@ss")),
    ("redis://default:pw@host:7000/0", ("host", 7000, "pw")),
])
def test_a_replica_source_uri_names_host_port_and_password(uri, expected):
    from backups.migration import Source

    source = Source.from_uri(uri)
    assert (source.host, source.port, source.password) == expected


@pytest.mark.parametrize("uri, message", [
    ("rediss://host:6380", "needs serverCertSecret"), ("redis://alice:pw@host", "no user"),
    ("redis://host:99999", "port"), ("redis://:pw@", "no host"), ("http://host", "redis:// or rediss://"),
])
def test_a_replica_source_uri_is_refused_with_the_reason(uri, message):
    from backups.migration import Source

    with pytest.raises(ValueError, match=message):
        Source.from_uri(uri)
