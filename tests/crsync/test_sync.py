"""REC/REDB custom resources and stored objects kept in step, both ways, against the API server emulator.

The custom resources are written as kubectl writes them (server-side apply with its own field manager,
over HTTP with the official client); the control plane's side is the real engine and services.
"""
from __future__ import annotations

import pytest

from clusters.models import Cluster
from core.drivers import driver_for
from databases.models import Database
from databases.services import create_database, delete_database, update_database
from engine.reconcile import reconcile
from kube.crsync.resources import FINALIZER, GENERATION_ANNOTATION
from kube.crsync.sync import sync_target
from targets import managed
from timeline.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

REC = {"apiVersion": "app.redislabs.com/v1", "kind": "RedisEnterpriseCluster",
       "metadata": {"name": "rec", "namespace": "redis"}, "spec": {"nodes": 3}}


def redb(name="mydb", **spec):
    return {"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseDatabase",
            "metadata": {"name": name, "namespace": "redis"},
            "spec": {"memorySize": "100MB", "replication": True, **spec}}


def kubectl_apply(env, manifest: dict) -> dict:
    """What `kubectl apply --server-side` sends: an apply patch with kubectl's field manager."""
    api = driver_for(env.target).api
    kind = api_kind(manifest["kind"])
    meta = manifest["metadata"]
    return api.request("PATCH", kind.path(meta["namespace"], meta["name"]), body=manifest,
                       query=[("fieldManager", "kubectl"), ("force", "true")],
                       content_type="application/apply-patch+yaml")


def api_kind(kind: str):
    from kube.client import KINDS

    return KINDS[kind]


def resource(env, kind: str, name: str) -> dict | None:
    return driver_for(env.target).api.get(kind, "redis", name)


def sync(env):
    return sync_target(driver_for(env.target).api, env.target)


def settle(obj, rounds: int = 4):
    for _ in range(rounds):
        outcome = reconcile(obj.kind, obj.pk)
        if outcome.gone:
            return outcome
        obj.refresh_from_db()
        if outcome.settled:
            break
    return outcome


def kubectl_cluster(env) -> Cluster:
    kubectl_apply(env, REC)
    sync(env)
    cluster = Cluster.objects.get(name="rec")
    settle(cluster)
    assert cluster.state == managed.RUNNING
    return cluster


def test_a_rec_made_with_kubectl_is_adopted_reconciled_and_shows_its_status(crd_env):
    kubectl_apply(crd_env, REC)
    steps = sync(crd_env)
    assert [s.actions[0] for s in steps] == ["adopt"]
    cluster = Cluster.objects.get(name="rec")
    assert cluster.target == crd_env.target and cluster.namespace == "redis" and cluster.spec["nodes"] == 3
    custom = resource(crd_env, "RedisEnterpriseCluster", "rec")
    assert FINALIZER in custom["metadata"]["finalizers"]
    assert custom["metadata"]["annotations"][GENERATION_ANNOTATION] == "1"
    assert custom["status"]["observedGeneration"] == custom["metadata"]["generation"]
    settle(cluster)
    assert cluster.state == managed.RUNNING
    assert resource(crd_env, "RedisEnterpriseCluster", "rec")["status"]["state"] == managed.RUNNING
    created = Event.objects.get(object_kind="cluster", object_name="rec", reason="Created")
    assert created.actor == "kubernetes:kubectl"
    assert sync(crd_env) == []  # in step: a second pass does nothing


def test_a_redb_made_with_kubectl_gets_defaults_in_its_spec_and_becomes_active(crd_env):
    kubectl_cluster(crd_env)
    kubectl_apply(crd_env, redb())
    sync(crd_env)
    database = Database.objects.get(name="mydb")
    settle(database)
    assert database.state == managed.DB_ACTIVE
    custom = resource(crd_env, "RedisEnterpriseDatabase", "mydb")
    assert custom["spec"]["databaseSecretName"] == "redb-mydb"
    assert custom["spec"]["memorySize"] == "100MB"
    assert custom["status"]["state"] == managed.DB_ACTIVE
    assert custom["status"]["databaseSecretName"] == "redb-mydb"
    assert crd_env.store.find("Secret", "redis", "redb-mydb") is not None


def test_a_kubectl_change_goes_through_the_validator(crd_env):
    kubectl_cluster(crd_env)
    kubectl_apply(crd_env, redb())
    sync(crd_env)
    database = Database.objects.get(name="mydb")
    kubectl_apply(crd_env, redb(memorySize="200MB"))
    assert [s.actions for s in sync(crd_env)] == [["pull"]]
    database.refresh_from_db()
    assert database.spec["memorySize"] == "200MB" and database.generation == 2
    changed = Event.objects.get(object_kind="database", object_name="mydb", reason="SpecChanged")
    assert changed.actor == "kubernetes:kubectl" and "200MB" in changed.message

    kubectl_apply(crd_env, redb(memorySize="1PB"))
    sync(crd_env)
    database.refresh_from_db()
    assert database.spec["memorySize"] == "200MB" and database.generation == 2  # nothing else changed
    custom = resource(crd_env, "RedisEnterpriseDatabase", "mydb")
    assert custom["status"]["specStatus"] == "Invalid"
    refusal = next(c for c in custom["status"]["conditions"] if c["type"] == "SpecValid")
    assert refusal["message"].startswith("spec.memorySize:")
    settle(database)  # the reconciler's status writes keep the refusal in view
    assert resource(crd_env, "RedisEnterpriseDatabase", "mydb")["status"]["specStatus"] == "Invalid"
    assert sync(crd_env) == []  # not retried until it changes


def test_an_invalid_redb_is_refused_with_the_field_message_and_nothing_stored(crd_env):
    kubectl_cluster(crd_env)
    kubectl_apply(crd_env, redb("bad", shardCount=0))
    sync(crd_env)
    assert not Database.objects.filter(name="bad").exists()
    status = resource(crd_env, "RedisEnterpriseDatabase", "bad")["status"]
    assert status["specStatus"] == "Invalid"
    assert "spec.shardCount" in next(c for c in status["conditions"] if c["type"] == "SpecValid")["message"]


def test_an_api_made_database_is_written_as_a_custom_resource_and_its_changes_follow(crd_env, team, member):
    cluster = kubectl_cluster(crd_env)
    database = create_database(cluster=cluster, name="cache", spec={"memorySize": "100MB"}, team=team,
                               actor=member).obj
    settle(database)
    custom = resource(crd_env, "RedisEnterpriseDatabase", "cache")
    assert custom["spec"] == database.spec
    assert [m["manager"] for m in custom["metadata"]["managedFields"]] == ["redis-controlplane"]
    update_database(database, spec={**database.spec, "memorySize": "150MB"}, actor=member)
    settle(database)
    custom = resource(crd_env, "RedisEnterpriseDatabase", "cache")
    assert custom["spec"]["memorySize"] == "150MB"
    assert custom["metadata"]["annotations"][GENERATION_ANNOTATION] == "2"
    assert custom["status"]["observedGeneration"] == custom["metadata"]["generation"]
    assert sync(crd_env) == []  # our own writes are not taken for kubectl changes


def test_both_sides_changed_is_a_recorded_conflict(crd_env, team, member):
    cluster = kubectl_cluster(crd_env)
    database = create_database(cluster=cluster, name="cache", spec={"memorySize": "100MB"}, team=team,
                               actor=member).obj
    settle(database)
    update_database(database, spec={**database.spec, "memorySize": "150MB"}, actor=member)
    kubectl_apply(crd_env, {**redb("cache"), "spec": {**database.spec, "memorySize": "300MB"}})
    assert [s.actions[0] for s in sync(crd_env)] == ["conflict"]
    database.refresh_from_db()
    assert database.spec["memorySize"] == "150MB"
    assert resource(crd_env, "RedisEnterpriseDatabase", "cache")["spec"]["memorySize"] == "150MB"
    conflict = Event.objects.get(object_kind="database", object_name="cache", reason="CustomResourceConflict")
    assert conflict.actor == "kubernetes:kubectl" and "was not applied" in conflict.message


def test_kubectl_delete_waits_for_the_objects_then_the_finalizer_goes(crd_env):
    cluster = kubectl_cluster(crd_env)
    kubectl_apply(crd_env, redb())
    sync(crd_env)
    database = Database.objects.get(name="mydb")
    settle(database)
    api = driver_for(crd_env.target).api
    api.delete("RedisEnterpriseDatabase", "redis", "mydb")
    assert resource(crd_env, "RedisEnterpriseDatabase", "mydb")["metadata"]["deletionTimestamp"]  # held
    sync(crd_env)
    database.refresh_from_db()
    assert database.deletion_requested_at is not None
    assert settle(database, rounds=6).gone
    assert crd_env.store.find("StatefulSet", "redis", "mydb") is None
    assert resource(crd_env, "RedisEnterpriseDatabase", "mydb") is None

    api.delete("RedisEnterpriseCluster", "redis", "rec")
    sync(crd_env)
    assert settle(cluster, rounds=6).gone
    assert resource(crd_env, "RedisEnterpriseCluster", "rec") is None


def test_a_rec_with_databases_says_why_its_deletion_waits(crd_env, team):
    cluster = kubectl_cluster(crd_env)
    create_database(cluster=cluster, name="cache", spec={"memorySize": "100MB"}, team=team, actor="test")
    driver_for(crd_env.target).api.delete("RedisEnterpriseCluster", "redis", "rec")
    sync(crd_env)
    cluster.refresh_from_db()
    assert cluster.deletion_requested_at is None
    waiting = next(c for c in resource(crd_env, "RedisEnterpriseCluster", "rec")["status"]["conditions"]
                   if c["type"] == "Deleting")
    assert waiting["reason"] == "WaitingForDatabases" and "cache" in waiting["message"]


def test_deleting_through_the_api_deletes_the_custom_resource(crd_env, team):
    cluster = kubectl_cluster(crd_env)
    database = create_database(cluster=cluster, name="cache", spec={"memorySize": "100MB"}, team=team,
                               actor="test").obj
    settle(database)
    delete_database(database, actor="test")
    assert settle(database, rounds=6).gone
    assert resource(crd_env, "RedisEnterpriseDatabase", "cache") is None


def test_an_idle_periodic_pass_lists_the_custom_resources_once_and_writes_nothing(crd_env, team):
    from engine.sweep import reconcile_everything

    cluster = kubectl_cluster(crd_env)
    create_database(cluster=cluster, name="cache", spec={"memorySize": "100MB"}, team=team, actor="test")
    for _ in range(3):
        reconcile_everything()
    crd_env.emulator.reset_requests()
    reconcile_everything()
    assert crd_env.emulator.writes() == []
    custom = [r for r in crd_env.emulator.requests if "app.redislabs.com" in r.path]
    assert sorted(r.path for r in custom) == [  # each kind once (the access kinds: kube/crsync/access.py)
        "/apis/app.redislabs.com/v1/redisenterpriseclusters",
        *[f"/apis/app.redislabs.com/v1alpha1/redisenterprise{kind}" for kind in
          ("acls", "databases", "rolebindings", "roles", "users")]]


def test_the_team_annotation_gives_a_kubectl_made_database_to_that_team(crd_env, team):
    from kube.crsync.resources import TEAM_ANNOTATION

    kubectl_cluster(crd_env)
    owned = redb("owned")
    owned["metadata"]["annotations"] = {TEAM_ANNOTATION: team.name}
    stray = redb("stray")
    stray["metadata"]["annotations"] = {TEAM_ANNOTATION: "nobody"}
    kubectl_apply(crd_env, owned)
    kubectl_apply(crd_env, stray)
    sync(crd_env)
    assert Database.objects.get(name="owned").team == team
    assert not Database.objects.filter(name="stray").exists()
    refusal = next(c for c in resource(crd_env, "RedisEnterpriseDatabase", "stray")["status"]["conditions"]
                   if c["type"] == "SpecValid")
    assert refusal["message"] == f"metadata.annotations.{TEAM_ANNOTATION}: no team named nobody"
