"""Backups and restores on the local target, against real redis-server processes and a real S3 server
(moto_server started here): periodic backups land in the mount folder and the bucket, a restore brings
every key back (single and sharded), a corrupted backup is refused and changes nothing."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import boto3
import pytest
import redis
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from redis.cluster import RedisCluster

from tests.servers import redis_server, s3_server
from tests.writers import CutOverWriter

from .conftest import settle
from .helpers import endpoint, endpoint_port, master_name, process_port

BUCKET = "backups"


@pytest.fixture(autouse=True)
def mount_root(settings, tmp_path):
    """Backups may go to this test's folder (spec.backup.mount.path must be inside an allowed root)."""
    settings.CONTROLPLANE_BACKUP_MOUNT_ROOTS = [tmp_path]


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as url:
        boto3.client("s3", endpoint_url=url, aws_access_key_id="test-key", aws_secret_access_key="test-secret",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield url


@pytest.fixture
def s3_secret(db, s3_endpoint):
    from backups.models import StorageSecret

    StorageSecret.objects.create(name="aws-creds", data=json.dumps(
        {"accessKeyId": "test-key", "secretAccessKey": "test-secret", "endpointUrl": s3_endpoint}))
    return boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="test-key",
                        aws_secret_access_key="test-secret", region_name="us-east-1")


def s3_backups(s3, prefix: str) -> list[str]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return sorted({k.split("/")[-2] for k in keys if k.endswith("/manifest.json")})



def wait_in_sync(copy, timeout: float = 30) -> dict:
    """Follow (as beat does) until `copy`'s status says it is in sync with its source; that status."""
    from backups import services

    deadline = time.monotonic() + timeout
    while True:
        services.follow_replica_sources()
        copy.refresh_from_db()
        progress = copy.status["replicaSourceStatus"]
        if progress.get("inSync"):
            return progress
        assert time.monotonic() < deadline, progress
        time.sleep(0.2)

def test_periodic_backups_land_in_the_mount_and_s3_and_a_restore_brings_every_key_back(
        make_database, s3_secret, tmp_path, settings):
    from backups import services
    from backups.models import BackupRun
    from timeline.models import Event

    settings.CONTROLPLANE_BACKUP_RETAIN = 2
    mount = tmp_path / "mount"
    database = make_database(replication=True, backup={
        "interval": 3600, "mount": {"path": str(mount)},
        "s3": {"awsSecretName": "aws-creds", "bucketName": BUCKET, "subdir": "nightly"}})
    client = endpoint(database)
    for i in range(500):
        client.set(f"key:{i}", f"value-{i}")
    client.set("session", "x", ex=3000)
    assert client.wait(1, 5000) == 1  # the replica has every key: the backup is taken from it

    start = timezone.now()
    assert services.run_due_backups(start) == 1  # never backed up: due at once
    assert services.run_due_backups(start + timedelta(minutes=59)) == 0
    assert services.run_due_backups(start + timedelta(minutes=61)) == 1  # one interval later
    run = BackupRun.objects.filter(database=database).first()
    assert run.ok, run.error
    folder = mount / "rec" / database.name / run.name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"] == database.name and manifest["shards"][0]["keys"] == 501
    assert manifest["shards"][0]["slots"] == [[0, 16383]] and "(replica)" in manifest["shards"][0]["source"]
    assert (folder / "shard-0.rdb").stat().st_mode & 0o777 == 0o600
    assert s3_backups(s3_secret, f"nightly/rec/{database.name}/") == sorted(
        p.name for p in (mount / "rec" / database.name).iterdir())
    assert services.run_due_backups(start + timedelta(minutes=122)) == 1  # a third: retention keeps two
    assert len(s3_backups(s3_secret, f"nightly/rec/{database.name}/")) == 2
    assert len(list((mount / "rec" / database.name).iterdir())) == 2
    database.refresh_from_db()
    info = database.status["backupInfo"]
    assert info["lastBackup"] == BackupRun.objects.filter(database=database).first().name
    assert info["size"] > 0 and "lastError" not in info and info["nextRun"] > info["lastSuccess"]
    settle(database)  # a reconcile keeps status.backupInfo
    assert database.status["backupInfo"] == info

    for i in range(250):
        client.delete(f"key:{i}")
    client.set("key:300", "changed")
    with pytest.raises(services.ConfirmationRequired):
        services.restore(database, actor="alice")
    assert client.dbsize() == 251  # nothing changed without the confirmation
    result = services.restore(database, actor="alice", confirm=True)
    assert result.keys == 501
    assert [client.get(f"key:{i}") for i in range(500)] == [f"value-{i}" for i in range(500)]
    assert 0 < client.ttl("session") <= 3000
    event = Event.objects.filter(object_id=database.pk, reason="Restored").first()
    assert event.actor == "alice" and "replacing 251 keys" in event.message

    newest = sorted(p for p in (mount / "rec" / database.name).iterdir())[-1]
    rdb = newest / "shard-0.rdb"
    data = bytearray(rdb.read_bytes())
    data[len(data) // 2] ^= 0xFF
    rdb.write_bytes(bytes(data))
    client.set("after", "1")
    with pytest.raises(services.BackupError, match="checksum"):
        services.restore(database, actor="alice", confirm=True)
    assert client.dbsize() == 502 and client.get("after") == "1"  # refused: nothing changed

    # Into a new database, from the bucket (the mount copies are gone).
    import shutil
    shutil.rmtree(mount)
    copy = services.create_copy(database, "cache-copy", actor="alice")
    assert settle(copy).state == "active", copy.status
    assert services.restore(copy, source=database, actor="alice").keys == 501  # empty: no confirm needed
    assert endpoint(copy).get("key:499") == "value-499"


def test_a_sharded_database_restores_every_key_to_the_shard_that_owns_it_and_imports_an_rdb(
        make_database, tmp_path, capsys):
    from backups import services

    mount = tmp_path / "mount"
    database = make_database(shardCount=2, memorySize="200MB", backup={"mount": {"path": str(mount)}})
    client = RedisCluster(host="127.0.0.1", port=endpoint_port(database), password=database.password,
                          decode_responses=True, socket_timeout=5)
    for i in range(1000):
        client.set(f"user:{i}", i)

    call_command("backup", database.name)  # `manage.py backup DB`
    assert "bytes to mount" in capsys.readouterr().out
    name = services.stored_backups(database)[0]["name"]
    manifest = json.loads((mount / "rec" / database.name / name / "manifest.json").read_text())
    assert len(manifest["shards"]) == 2 and sum(s["keys"] for s in manifest["shards"]) == 1000
    assert sum(b - a + 1 for s in manifest["shards"] for a, b in s["slots"]) == 16384

    for i in range(0, 1000, 2):
        client.delete(f"user:{i}")
    with pytest.raises(CommandError, match="holds 500 keys"):
        call_command("restore", database.name)
    call_command("restore", database.name, "--from", name, "--yes")
    assert [client.get(f"user:{i}") for i in range(1000)] == [str(i) for i in range(1000)]
    sizes = [redis.Redis(port=database.status["processes"][n]["port"], password=database.password).dbsize()
             for n in database.status["shardMasters"]]
    assert sum(sizes) == 1000 and min(sizes) > 300  # each key on the shard that owns its slot

    # Import an RDB file written by a plain Redis.
    with redis_server() as url:
        plain = redis.Redis.from_url(url, decode_responses=True)
        for i in range(200):
            plain.hset(f"h:{i}", mapping={"n": i})
        plain.save()
        rdb = tmp_path / "plain.rdb"
        rdb.write_bytes((__import__("pathlib").Path(plain.config_get("dir")["dir"]) / "dump.rdb").read_bytes())
    with pytest.raises(services.ConfirmationRequired):
        services.import_rdb(database, rdb, actor="bob")
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    assert services.import_rdb(database, rdb, actor="bob").keys == 200
    assert client.hget("h:199", "n") == "199"

    garbage = tmp_path / "garbage.rdb"
    garbage.write_bytes(b"REDIS0011 this is not an rdb file")
    with pytest.raises(services.BackupError, match="nothing changed"):
        services.import_rdb(database, garbage, actor="bob", confirm=True)
    assert client.hget("h:0", "n") == "0"


def test_a_database_with_the_default_user_off_is_backed_up_and_restored_as_the_control_planes_user(
        make_database, tmp_path):
    """defaultUser: false: the database password is refused everywhere, so the capture, the checks and the
    server-to-server copy (MIGRATE ... AUTH2) log in as `cp-admin`; every key comes back."""
    from access import internal
    from backups import services

    database = make_database(defaultUser=False, backup={"mount": {"path": str(tmp_path / "mount")}})
    login = internal.login(database)
    assert login.username == "cp-admin"
    client = endpoint(database, username=login.username, password=login.password)
    for i in range(300):
        client.set(f"key:{i}", f"value-{i}")
    with pytest.raises(redis.AuthenticationError):
        endpoint(database).ping()  # the database password is refused: only cp-admin gets in

    master = redis.Redis(port=process_port(database, master_name(database)), username=login.username,
                         password=login.password)
    master.acl_log_reset()

    run = services.backup_now(database, actor="alice")
    assert run.ok, run.error
    for i in range(0, 300, 3):
        client.delete(f"key:{i}")
    assert services.restore(database, actor="alice", confirm=True).keys == 300
    assert [client.get(f"key:{i}") for i in range(300)] == [f"value-{i}" for i in range(300)]
    refused = [entry for entry in master.acl_log() if entry["reason"] == "auth"]
    assert refused == []  # the server-to-server copy logged in too (no MIGRATE refused, no client fallback)


def test_the_api_backs_up_now_lists_and_restores_only_with_confirmation(make_database, member, outsider, tmp_path):
    from django.test import Client

    from backups.models import BackupRun
    from tests.api.conftest import client_for
    from timeline.models import Event

    mount = tmp_path / "mount"
    database = make_database(backup={"mount": {"path": str(mount)}})
    api, stranger = client_for(member), client_for(outsider)
    base = f"/api/v1/clusters/rec/databases/{database.name}"
    client = endpoint(database)
    client.mset({f"k{i}": i for i in range(100)})

    assert stranger.post(f"{base}/backup/").status_code == 404
    taken = api.post(f"{base}/backup/")
    assert taken.status_code == 200 and taken.json()["ok"], taken.json()
    listed = api.get(f"{base}/backups/").json()
    assert [b["name"] for b in listed["backups"]] == [taken.json()["name"]]
    assert listed["backupInfo"]["lastBackup"] == taken.json()["name"]
    assert api.get(f"{base}/").json()["status"]["backupInfo"]["size"] == taken.json()["size"]
    browser = Client()
    browser.force_login(member)
    page = browser.post(f"/databases/{database.pk}/backup/", follow=True).content.decode()  # the dashboard button
    newest = BackupRun.objects.filter(database=database).first()
    assert newest.ok and newest.actor == "alice" and f"Backup {newest.name} stored" in page
    assert f"{newest.name}, {newest.size} bytes" in page
    client.delete("k1")
    page = browser.post(f"/databases/{database.pk}/restore/", {"backup": ""}, follow=True).content.decode()
    assert "holds 99 keys" in page and client.get("k1") is None  # the confirm box was not ticked
    page = browser.post(f"/databases/{database.pk}/restore/", {"confirm": "on"}, follow=True).content.decode()
    assert f"Restored backup {newest.name}" in page and client.get("k1") == "1"

    client.delete(*[f"k{i}" for i in range(50)])
    refused = api.post(f"{base}/restore/", {}, format="json")
    assert refused.status_code == 409 and "confirm" in refused.json()["errors"]
    assert client.dbsize() == 50
    restored = api.post(f"{base}/restore/", {"confirm": True}, format="json")
    assert restored.status_code == 200 and restored.json()["keys"] == 100
    assert client.dbsize() == 100
    assert Event.objects.filter(object_id=database.pk, reason="Restored", actor="alice").exists()

    for folder in (mount / "rec" / database.name).iterdir():
        (folder / "manifest.json").write_text("{not json")
    corrupted = api.post(f"{base}/restore/", {"confirm": True}, format="json")
    assert corrupted.status_code == 400 and "nothing changed" in corrupted.json()["errors"]["backup"][0]
    missing = api.post(f"{base}/restore/", {"confirm": True, "backup": "20000101T000000000Z"}, format="json")
    assert missing.status_code == 400
    assert client.dbsize() == 100

    # A backup of one database into another of the same cluster (fromDatabase), through the API.
    from backups.services import create_copy
    other = create_copy(database, "other", actor="alice")
    assert settle(other).state == "active", other.status
    for folder in (mount / "rec" / database.name).iterdir():
        folder.joinpath("manifest.json").unlink()
    api.post(f"{base}/backup/")
    into = api.post("/api/v1/clusters/rec/databases/other/restore/", {"fromDatabase": database.name}, format="json")
    assert into.status_code == 200 and into.json()["keys"] == 100
    assert endpoint(other).get("k99") == "99"
    assert stranger.post("/api/v1/clusters/rec/databases/other/restore/", {"fromDatabase": database.name},
                         format="json").status_code == 404


def test_live_migration_from_a_plain_redis_with_a_writer_running_keeps_every_acknowledged_key(make_database):
    from backups import services

    database = make_database()
    target = endpoint(database)
    with redis_server() as url:
        source = redis.Redis.from_url(url, decode_responses=True)
        source.mset({f"old:{i}": i for i in range(2000)})
        with CutOverWriter(source, target) as writer:
            time.sleep(0.3)
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            result = services.migrate_from(database, services.Source("127.0.0.1", port), actor="carol")
            assert writer.moved.wait(10)  # the writer hit the fence and moved
            time.sleep(0.2)
    assert result.keys >= 2000 + 100
    missing = [key for key in writer.acknowledged if target.get(key) is None]
    assert not missing and len(writer.acknowledged) > 100
    assert [target.get(f"old:{i}") for i in range(2000)] == [str(i) for i in range(2000)]


def test_replica_sources_follow_a_database_and_the_api_cut_over_keeps_every_acknowledged_key(make_database, member):
    from backups import following, services
    from tests.api.conftest import client_for

    source = make_database(name="old")
    copy = make_database(name="new", cluster=source.cluster,
                         replicaSources=[{"replicaSourceType": "REDB", "replicaSourceName": "old"}])
    writes, target = endpoint(source), endpoint(copy)
    writes.mset({f"old:{i}": i for i in range(2000)})
    try:
        with CutOverWriter(endpoint(source), target) as writer:
            assert services.follow_replica_sources() == {"following": 1, "failed": 0, "stopped": 0}
            progress = wait_in_sync(copy)  # the follower's full sync, as status shows it
            assert progress["source"] == "old" and progress["linkStatus"] == "up" and progress["keys"] >= 2000
            assert target.dbsize() == 0  # following is not writing into the database yet

            api = client_for(member)
            answer = api.post(f"/api/v1/clusters/rec/databases/{copy.name}/cutover/", {}, format="json")
            assert answer.status_code == 200, answer.json()
            assert writer.moved.wait(10)  # the writer hit the fence and moved
            time.sleep(0.2)
    finally:
        following.stop(copy.pk)
    missing = [key for key in writer.acknowledged if target.get(key) is None]
    assert not missing and len(writer.acknowledged) > 100
    assert [target.get(f"old:{i}") for i in range(2000)] == [str(i) for i in range(2000)]
    copy.refresh_from_db()
    assert "replicaSources" not in copy.spec and "replicaSourceStatus" not in copy.status
    assert following.followed() == []
    with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
        writes.set("after", 1)  # the source stays fenced


def test_replica_sources_follow_a_redis_named_by_a_secret_and_the_dashboard_cuts_over(make_database, monkeypatch,
                                                                                        member):
    from django.test import Client

    from backups import following, services

    with redis_server("--requirepass", "s3cret", "--repl-diskless-sync-delay", "0") as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        source = redis.Redis(port=port, password="s3cret", decode_responses=True)
        source.mset({f"k:{i}": i for i in range(500)})
        monkeypatch.setenv("SOURCE_REDIS_URI", f"redis://:s3cret@127.0.0.1:{port}")
        call_command("backup_secret", "old-redis", "--redis-uri")
        copy = make_database(name="new", replicaSources=[{"replicaSourceType": "SECRET",
                                                          "replicaSourceName": "old-redis"}])
        browser = Client()
        browser.force_login(member)
        try:
            for _ in range(50):  # the follower's full sync, as the page shows it
                services.follow_replica_sources()
                page = browser.get(f"/databases/{copy.pk}/").content.decode()
                if "in sync, 500 keys" in page:
                    break
                time.sleep(0.1)
            assert "Replica of old-redis" in page and "in sync, 500 keys" in page, page
            done = browser.post(f"/databases/{copy.pk}/cutover/", follow=True).content.decode()
        finally:
            following.stop(copy.pk)
        assert "500 keys. Move writers here." in done and "Replica of" not in done
        copy.refresh_from_db()
        assert "replicaSources" not in copy.spec
        target = endpoint(copy)
        assert [target.get(f"k:{i}") for i in range(500)] == [str(i) for i in range(500)]
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            source.set("after", 1)
