"""What every write does besides validating: generations, events, 409s, deletion, credentials, no partial rows."""
from __future__ import annotations

import pytest
from django.db import transaction

from clusters.models import Cluster
from clusters.services import create_cluster, delete_cluster, update_cluster
from core.errors import SpecError, StaleGeneration
from databases.models import Database
from databases.services import (
    create_database,
    delete_database,
    reveal_credentials,
    update_database,
)
from timeline.models import Event

from .conftest import errors_of

pytestmark = pytest.mark.django_db


def events(obj) -> list[tuple[str, str]]:
    return [(e.reason, e.actor) for e in Event.objects.filter(object_kind=obj.kind, object_id=obj.pk)
            .order_by("id")]


@pytest.fixture
def database(cluster, team):
    return create_database(cluster=cluster, name="cache", spec={"memorySize": "256MB"}, team=team,
                           actor="alice").obj


def test_create_records_an_event_with_the_actor(cluster, staff_user):
    assert events(cluster) == [("Created", "test")]
    db = create_database(cluster=cluster, name="x", spec={}, team=None, actor=staff_user).obj
    assert events(db) == [("Created", "ops")]
    assert db.generation == 1


def test_spec_change_bumps_generation_and_records_what_changed(database):
    spec = dict(database.spec, memorySize="512MB")
    result = update_database(database, spec=spec, actor="alice")
    assert result.changed and not result.created
    database.refresh_from_db()
    assert database.generation == 2 and database.spec["memorySize"] == "512MB"
    change = Event.objects.filter(object_kind="database", object_id=database.pk, reason="SpecChanged").get()
    assert change.message == "generation 2: memorySize: 256MB -> 512MB"


def test_identical_spec_changes_nothing(database):
    before = (database.generation, Event.objects.count())
    result = update_database(database, spec=dict(database.spec), actor="alice")
    assert not result.changed
    database.refresh_from_db()
    assert (database.generation, Event.objects.count()) == before


def test_spec_change_enqueues_a_reconcile_after_commit(database, settings, django_capture_on_commit_callbacks):
    """In celery mode a change puts one reconcile task on the real broker; an identical write puts none."""
    import json

    from core.locks import redis_client

    settings.CONTROLPLANE_RECONCILE_MODE = "celery"
    broker = redis_client()
    broker.delete("celery")
    update_database(database, spec=dict(database.spec, memorySize="300MB"), actor="alice")
    assert broker.llen("celery") == 0  # nothing before commit
    with django_capture_on_commit_callbacks(execute=True):
        update_database(database, spec=dict(database.spec, memorySize="400MB"), actor="alice")
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages] == [
        ("engine.tasks.reconcile_object", f"('database', {database.pk})")]
    with django_capture_on_commit_callbacks(execute=True):
        update_database(database, spec=dict(database.spec), actor="alice")
    assert broker.llen("celery") == 1
    broker.delete("celery")


def test_stale_generation_is_refused(database):
    update_database(database, spec=dict(database.spec, memorySize="300MB"), actor="alice")
    with pytest.raises(StaleGeneration) as info:
        update_database(database, spec=dict(database.spec, memorySize="400MB"), actor="bob", expected_generation=1)
    assert info.value.expected == 1 and info.value.actual == 2
    database.refresh_from_db()
    assert database.spec["memorySize"] == "300MB"
    assert update_database(database, spec=dict(database.spec, memorySize="400MB"), actor="bob",
                           expected_generation=2).changed


def test_stale_generation_on_clusters(cluster, rec_spec):
    with pytest.raises(StaleGeneration):
        update_cluster(cluster, spec=dict(rec_spec, nodes=5), actor="test", expected_generation=7)
    cluster.refresh_from_db()
    assert cluster.spec["nodes"] == 3 and cluster.generation == 1


def test_rejected_write_changes_nothing(cluster, rec_spec):
    counts = (Cluster.objects.count(), Database.objects.count(), Event.objects.count())
    errors_of(create_cluster, name="rec2", namespace="other", spec=dict(rec_spec, nodes=2), actor="test")
    errors_of(create_database, cluster=cluster, name="cache", spec={"memorySize": "1MB"}, team=None, actor="t")
    errors_of(update_cluster, cluster, spec=dict(rec_spec, nodes=1), actor="test")
    assert (Cluster.objects.count(), Database.objects.count(), Event.objects.count()) == counts
    cluster.refresh_from_db()
    assert cluster.generation == 1 and cluster.spec["nodes"] == 3


def test_rejected_write_inside_a_larger_transaction_leaves_it_usable(cluster):
    with transaction.atomic():
        with pytest.raises(SpecError):
            create_database(cluster=cluster, name="cache", spec={"shardCount": 0}, team=None, actor="t")
        create_database(cluster=cluster, name="cache", spec={}, team=None, actor="t")
    assert Database.objects.filter(name="cache").count() == 1


def test_delete_database_marks_and_keeps_data_by_default(database):
    delete_database(database, actor="alice")
    database.refresh_from_db()
    assert database.deletion_requested_at is not None and database.delete_data is False
    assert events(database)[-1] == ("DeletionRequested", "alice")
    delete_database(database, actor="alice")  # again: nothing new
    assert events(database)[-1] == ("DeletionRequested", "alice")
    delete_database(database, actor="alice", delete_data=True)
    database.refresh_from_db()
    assert database.delete_data is True and events(database)[-1] == ("DeletionChanged", "alice")
    errors = errors_of(update_database, database, spec=dict(database.spec), actor="alice")
    assert errors["name"] == ["database cache is being deleted; it can no longer be changed"]


def test_cluster_with_databases_cannot_be_deleted(cluster, database):
    errors = errors_of(delete_cluster, cluster, actor="test")
    assert errors["databases"] == ["cluster rec still has databases: cache; delete them first"]
    delete_database(database, actor="test")
    delete_cluster(cluster, actor="test", delete_data=True)
    cluster.refresh_from_db()
    assert cluster.deletion_requested_at is not None and cluster.delete_data is True


def test_credentials_reveal_is_recorded_without_the_secret(database, member):
    credentials = reveal_credentials(database, actor=member)
    port = database.spec["databasePort"]
    assert (credentials.host, credentials.port) == ("127.0.0.1", port)
    assert credentials.password == database.password and credentials.service_names
    assert credentials.redis_cli == f"redis-cli -h 127.0.0.1 -p {port} -a {database.password} --no-auth-warning"
    event = Event.objects.filter(object_kind="database", object_id=database.pk, reason="CredentialsRevealed").get()
    assert event.actor == "alice" and database.password not in event.message


def test_redis_cli_for_sharded_database_follows_redirects(cluster):
    db = create_database(cluster=cluster, name="big", spec={"shardCount": 3, "memorySize": "300MB"}, team=None,
                         actor="t").obj
    assert " -c -a " in reveal_credentials(db, actor="cli").redis_cli


def test_what_local_tls_does_not_cover_is_refused_up_front(cluster):
    errors = errors_of(create_database, cluster=cluster, name="secure", team=None, actor="t",
                       spec={"tlsMode": "enabled", "shardCount": 2, "memorySize": "200MB",
                             "clientAuthenticationCertificates": ["app-clients"]})
    assert "mutual TLS on a sharded database (Redis Cluster) is not offered" in \
        errors["spec.clientAuthenticationCertificates"][0]
    assert not Database.objects.filter(name="secure").exists()
    sharded = create_database(cluster=cluster, name="sharded", spec={"tlsMode": "enabled", "shardCount": 2,
                                                                     "memorySize": "200MB"}, team=None, actor="t").obj
    errors = errors_of(update_database, sharded, spec=dict(sharded.spec, tlsMode="replica_ssl"), actor="t")
    assert errors == {"spec.tlsMode": ["a sharded database (Redis Cluster) keeps the tlsMode it was created with "
                                       "(enabled); create a new database to change it"]}
    sharded.refresh_from_db()
    assert sharded.spec["tlsMode"] == "enabled" and sharded.generation == 1
    assert create_database(cluster=cluster, name="replicated", spec={"tlsMode": "replica_ssl", "replication": True},
                           team=None, actor="t").obj.spec["tlsMode"] == "replica_ssl"


def test_credentials_of_a_tls_database_carry_the_cluster_ca_and_a_tls_command(cluster):
    db = create_database(cluster=cluster, name="secure", spec={"tlsMode": "enabled", "databasePort": 12999},
                         team=None, actor="t").obj
    credentials = reveal_credentials(db, actor="cli")
    assert credentials.ca_certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert "--tls --cacert ca.crt" in credentials.redis_cli
    cluster.refresh_from_db()
    assert "PRIVATE KEY" in cluster.tls_ca  # the CA's key stays on the cluster row, encrypted in the column
    assert reveal_credentials(db, actor="cli").ca_certificate == credentials.ca_certificate  # made once


def test_local_target_refuses_making_a_single_shard_database_sharded_in_place(cluster):
    db = create_database(cluster=cluster, name="grow", spec={"shardCount": 1, "memorySize": "300MB"}, team=None,
                         actor="t").obj
    errors = errors_of(update_database, db, spec={**db.spec, "shardCount": 3}, actor="t")
    assert "cannot become sharded in place" in errors["spec.shardCount"][0]
    db.refresh_from_db()
    assert db.spec["shardCount"] == 1 and db.generation == 1
