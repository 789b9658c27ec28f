"""End to end against the API server emulator: the real engine, the real client, over HTTP."""
from __future__ import annotations

import base64

import pytest

from clusters.services import create_cluster, delete_cluster, update_cluster
from databases.services import create_database, delete_database, update_database
from engine.reconcile import reconcile
from targets import managed

pytestmark = pytest.mark.django_db(transaction=True)


def make_cluster(kube_env, name="rec", namespace="redis", **spec):
    spec = {"nodes": 3, **spec}
    return create_cluster(name=name, spec=spec, namespace=namespace, target=kube_env.target, actor="test").obj


def make_database(cluster, team, name="cache", **spec):
    spec = {"memorySize": "100MB", "replication": True, **spec}
    return create_database(cluster=cluster, name=name, spec=spec, team=team, actor="test").obj


def run(obj):
    outcome = reconcile(obj.kind, obj.pk)
    if not outcome.gone:
        obj.refresh_from_db()
    return outcome


def running_cluster(kube_env, **spec):
    cluster = make_cluster(kube_env, **spec)
    run(cluster)
    kube_env.settle()
    run(cluster)
    assert cluster.state == managed.RUNNING
    return cluster


def active_database(kube_env, cluster, team, **spec):
    database = make_database(cluster, team, **spec)
    run(database)
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE, database.status
    return database


def test_cluster_goes_pending_initializing_running(kube_env):
    cluster = make_cluster(kube_env)
    run(cluster)
    assert cluster.state == managed.PENDING_CREATION
    assert kube_env.store.find("Namespace", "", "redis") is not None
    statefulset = kube_env.store.find("StatefulSet", "redis", "rec")
    assert statefulset["spec"]["replicas"] == 3
    secret = kube_env.store.find("Secret", "redis", "rec")
    assert base64.b64decode(secret["data"]["password"]).decode() == cluster.admin_password

    kube_env.controller.break_pods("rec-2", "ImagePullBackOff")
    kube_env.settle()
    outcome = run(cluster)
    assert cluster.state == managed.INITIALIZING
    assert not outcome.settled
    ready = next(c for c in cluster.status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ImagePullBackOff"
    assert "2/3" in ready["message"] and "rec-2" in ready["message"]

    kube_env.controller.heal()
    kube_env.settle()
    run(cluster)
    assert cluster.state == managed.RUNNING
    assert cluster.status["observedGeneration"] == cluster.generation


@pytest.mark.parametrize("reason", ["Unschedulable", "CrashLoopBackOff", "PVCPending"])
def test_initializing_says_why(kube_env, reason):
    cluster = make_cluster(kube_env)
    run(cluster)
    kube_env.controller.break_pods("rec", reason)
    kube_env.settle()
    run(cluster)
    assert cluster.state == managed.INITIALIZING
    ready = next(c for c in cluster.status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == reason
    assert "0/3" in ready["message"]


def test_database_lifecycle(kube_env, team):
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team)
    run(database)
    assert database.state == managed.DB_PENDING
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE
    assert database.status["master"] == "cache-0"

    secret = kube_env.store.find("Secret", "redis", "redb-cache")
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    port = database.spec["databasePort"]
    assert values == {"port": str(port), "service_names": "cache,cache-headless", "password": database.password}
    service = kube_env.store.find("Service", "redis", "cache")
    assert service["spec"]["ports"][0]["port"] == port
    assert service["spec"]["selector"]["redis.io/role"] == "master"
    roles = {p["metadata"]["name"]: p["metadata"]["labels"]["redis.io/role"]
             for p in kube_env.store.all_of("Pod", "redis", "redis.io/database=cache")}
    assert roles == {"cache-0": "master", "cache-1": "replica"}
    # The password is read from the Secret, never written into the pod spec.
    statefulset = kube_env.store.find("StatefulSet", "redis", "cache")
    assert database.password not in str(statefulset)

    # memorySize changes: the pods' config (ConfigMap) follows, pods are not rolled, back to active.
    hash_before = statefulset["spec"]["template"]["metadata"]["annotations"]["redis.io/config-hash"]
    uids_before = {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis", "redis.io/database=cache")}
    update_database(database, spec={**database.spec, "memorySize": "200MB"}, actor="test")
    run(database)
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE
    config = kube_env.store.find("ConfigMap", "redis", "cache-config")
    assert f'maxmemory "{200 * 1024**2}"' in config["data"]["live.conf"]
    statefulset = kube_env.store.find("StatefulSet", "redis", "cache")
    assert statefulset["spec"]["template"]["metadata"]["annotations"]["redis.io/config-hash"] == hash_before
    assert {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis", "redis.io/database=cache")} \
        == uids_before

    delete_database(database, actor="test")
    for _ in range(3):
        if run(database).gone:
            break
    assert not type(database).objects.filter(pk=database.pk).exists()
    assert kube_env.store.all_of("StatefulSet", "redis", "redis.io/database=cache") == []
    assert kube_env.store.all_of("Secret", "redis", "redis.io/database=cache") == []
    assert kube_env.store.all_of("Pod", "redis", "redis.io/database=cache") == []


def test_idle_reconcile_writes_nothing(kube_env, team):
    cluster = running_cluster(kube_env)
    database = active_database(kube_env, cluster, team)
    status_before = (dict(cluster.status), dict(database.status))
    kube_env.emulator.reset_requests()
    run(cluster)
    run(database)
    assert kube_env.emulator.writes() == []
    assert (cluster.status, database.status) == status_before


def test_cluster_delete_keeps_volumes_unless_asked(kube_env):
    cluster = running_cluster(kube_env)
    assert len(kube_env.store.all_of("PersistentVolumeClaim", "redis")) == 3
    delete_cluster(cluster, actor="test")
    for _ in range(3):
        if run(cluster).gone:
            break
    assert kube_env.store.all_of("StatefulSet", "redis") == []
    assert kube_env.store.all_of("Service", "redis") == []
    assert len(kube_env.store.all_of("PersistentVolumeClaim", "redis")) == 3


def test_ingress_removed_from_spec_is_pruned(kube_env):
    ingress = {"method": "ingress", "apiFqdnUrl": "api.example.com", "dbFqdnSuffix": "-db.example.com"}
    cluster = running_cluster(kube_env, ingressOrRouteSpec=ingress)
    assert kube_env.store.find("Ingress", "redis", "rec-ui") is not None
    spec = {k: v for k, v in cluster.spec.items() if k != "ingressOrRouteSpec"}
    update_cluster(cluster, spec=spec, actor="test")
    run(cluster)
    assert kube_env.store.find("Ingress", "redis", "rec-ui") is None
    assert any(e.reason == "Pruned" for e in _events(cluster))


def _events(obj):
    from timeline.models import Event

    return Event.objects.filter(object_kind=obj.kind, object_id=obj.pk)


def test_reconcile_command_waits_until_settled(kube_env, team):
    from io import StringIO

    from django.core.management import call_command

    cluster = make_cluster(kube_env)
    make_database(cluster, team)
    kube_env.auto_settle()
    out = StringIO()
    call_command("reconcile", "--wait", "--timeout", "30", stdout=out)
    assert "cluster rec: Running" in out.getvalue()
    assert "database cache: active" in out.getvalue()


@pytest.mark.parametrize("delete_data", [False, True])
def test_database_volumes_kept_unless_data_deletion_asked(kube_env, team, delete_data):
    cluster = running_cluster(kube_env)
    database = active_database(kube_env, cluster, team, persistence="aofEverySecond")
    claims = kube_env.store.all_of("PersistentVolumeClaim", "redis", "redis.io/database=cache")
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-cache-0", "data-cache-1"]
    delete_database(database, actor="test", delete_data=delete_data)
    for _ in range(3):
        if run(database).gone:
            break
    left = kube_env.store.all_of("PersistentVolumeClaim", "redis", "redis.io/database=cache")
    assert len(left) == (0 if delete_data else 2)
    assert kube_env.store.all_of("StatefulSet", "redis", "redis.io/database=cache") == []


def test_existing_cluster_secret_keeps_its_password(kube_env):
    kube_env.store.put_kind("Namespace", {"metadata": {"name": "redis"}})
    kube_env.store.put_kind("Secret", {"metadata": {"name": "rec", "namespace": "redis"}, "data": {
        "username": base64.b64encode(b"ops@example.com").decode(),
        "password": base64.b64encode(b"pre-existing-pw").decode()}})
    cluster = make_cluster(kube_env)
    run(cluster)
    assert (cluster.admin_username, cluster.admin_password) == ("ops@example.com", "pre-existing-pw")
    secret = kube_env.store.find("Secret", "redis", "rec")
    assert base64.b64decode(secret["data"]["password"]).decode() == "pre-existing-pw"
    statefulset = kube_env.store.find("StatefulSet", "redis", "rec")
    assert statefulset is not None


def test_database_secret_name_never_takes_over_a_secret_it_did_not_create(kube_env, team):
    cluster = running_cluster(kube_env)
    foreign = {"metadata": {"name": "app-credentials", "namespace": "redis", "labels": {"app": "shop"}},
               "data": {"token": base64.b64encode(b"the application's own").decode()}}
    kube_env.store.put_kind("Secret", foreign)
    database = make_database(cluster, team, databaseSecretName="app-credentials")
    run(database)
    assert database.state == managed.INVALID
    message = next(c["message"] for c in database.status["conditions"] if c["type"] == "SpecValid")
    assert message.startswith("databaseSecretName: Secret app-credentials already exists in namespace redis and "
                              "belongs to someone else")
    secret = kube_env.store.find("Secret", "redis", "app-credentials")
    assert secret["data"] == foreign["data"] and secret["metadata"]["labels"] == {"app": "shop"}
    assert kube_env.store.find("StatefulSet", "redis", "cache") is None  # nothing applied
    # Another database's Secret is not taken either; its own name works.
    other = make_database(cluster, team, name="orders", databaseSecretName="redb-cache")
    update_database(database, spec={**database.spec, "databaseSecretName": "redb-cache"}, actor="test")
    database.refresh_from_db()
    run(database)
    assert database.state != managed.INVALID
    run(other)
    assert other.state == managed.INVALID
    assert "belongs to database cache" in next(c["message"] for c in other.status["conditions"]
                                               if c["type"] == "SpecValid")


def test_cluster_recovery_brings_every_database_back_through_its_own_reconcile_then_clears_the_flag(kube_env, team):
    from timeline.models import Event

    kube_env.auto_settle()
    cluster = running_cluster(kube_env)
    database = active_database(kube_env, cluster, team)
    # Every pod gone at once (a cluster restart); the StatefulSets bring them back on their volumes.
    for pod in kube_env.store.all_of("Pod", "redis"):
        kube_env.store.delete_kind("Pod", "redis", pod["metadata"]["name"])
    update_cluster(cluster, spec={**cluster.spec, "clusterRecovery": True}, actor="test")
    cluster.refresh_from_db()
    run(cluster)
    kube_env.settle()
    outcome = run(cluster)
    # The cluster's reconcile asks for the database's and does not run it under the cluster's lock: the
    # database's pods are back but none is labelled master (the Service routes nowhere) until it runs.
    assert not outcome.settled and "clusterRecovery" in cluster.spec
    assert {"type": "Recovered", "status": "False", "reason": "WaitingForDatabases"}.items() <= next(
        c for c in cluster.status["conditions"] if c["type"] == "Recovered").items()
    pods = kube_env.store.all_of("Pod", "redis")
    assert any(p["metadata"]["labels"].get("redis.io/database") == "cache" for p in pods)
    assert not [p for p in pods if p["metadata"]["labels"].get("redis.io/role") == "master"]
    assert not Event.objects.filter(object_kind="cluster", object_id=cluster.pk, reason="RecoveryCompleted")

    run(database)  # what the worker does with the request
    run(cluster)
    cluster.refresh_from_db()
    database.refresh_from_db()
    assert "clusterRecovery" not in cluster.spec  # cleared by the control plane once done
    assert database.state == managed.DB_ACTIVE
    assert [p["metadata"]["name"] for p in kube_env.store.all_of("Pod", "redis")
            if p["metadata"]["labels"].get("redis.io/role") == "master"] == ["cache-0"]
    completed = Event.objects.filter(object_kind="cluster", object_id=cluster.pk, reason="RecoveryCompleted")
    assert [e.message for e in completed] == ["cluster recovery finished: cache: active"]
