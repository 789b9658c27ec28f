"""Drift, API outages (500s, hangs) and conflicts: the reconciler puts things back and recovers by itself."""
from __future__ import annotations

import base64

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from core.errors import TargetError
from engine.reconcile import reconcile, reconcile_until_settled
from targets import managed

from .test_lifecycle import active_database, make_cluster, run, running_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def kubectl(kube_env) -> k8s.ApiClient:
    """What an operator's `kubectl` would be: the official client with the emulator's kubeconfig."""
    import yaml

    return k8s_config.new_client_from_config_dict(yaml.safe_load(kube_env.emulator.kubeconfig()))


def events(obj, reason):
    from timeline.models import Event

    return list(Event.objects.filter(object_kind=obj.kind, object_id=obj.pk, reason=reason)
                .values_list("message", flat=True))


def test_drift_is_put_back_with_an_event(kube_env, team):
    cluster = running_cluster(kube_env)
    database = active_database(kube_env, cluster, team)
    api = kubectl(kube_env)
    apps, core = k8s.AppsV1Api(api), k8s.CoreV1Api(api)
    # Out of band: scale the StatefulSet, delete the Service, edit the Secret's port.
    apps.patch_namespaced_stateful_set_scale("cache", "redis", {"spec": {"replicas": 1}})
    core.delete_namespaced_service("cache", "redis")
    core.patch_namespaced_secret("redb-cache", "redis", {"data": {"port": base64.b64encode(b"1").decode()}})
    assert kube_env.store.find("StatefulSet", "redis", "cache")["spec"]["replicas"] == 1

    run(database)
    assert kube_env.store.find("StatefulSet", "redis", "cache")["spec"]["replicas"] == 2
    assert kube_env.store.find("Service", "redis", "cache") is not None
    port = kube_env.store.find("Secret", "redis", "redb-cache")["data"]["port"]
    assert base64.b64decode(port).decode() == str(database.spec["databasePort"])
    corrected = " | ".join(events(database, "DriftCorrected"))
    assert "spec.replicas 1 -> 2" in corrected
    assert "Service cache was missing" in corrected
    assert "Secret redb-cache: data.port changed" in corrected
    assert database.password not in corrected


def test_api_outage_shows_error_and_recovers_with_spec_intact(kube_env):
    cluster = make_cluster(kube_env)
    spec_before, generation = dict(cluster.spec), cluster.generation
    kube_env.inject(status=500, count=1000)
    with pytest.raises(TargetError, match="500"):
        reconcile("cluster", cluster.pk)
    cluster.refresh_from_db()
    assert cluster.state == managed.ERROR
    assert "500" in cluster.status["conditions"][0]["message"]
    assert cluster.spec == spec_before and cluster.generation == generation

    kube_env.emulator.clear_faults()
    kube_env.auto_settle()
    outcome = reconcile_until_settled("cluster", cluster.pk, timeout=20, interval=0.05)
    cluster.refresh_from_db()
    assert outcome.settled and cluster.state == managed.RUNNING
    assert cluster.spec == spec_before


def test_hanging_api_times_out_as_error_then_recovers(kube_env):
    cluster = make_cluster(kube_env)
    # Longer than the target's 1 s request timeout, for the call and the client's one retry.
    kube_env.inject(status=504, count=2, hang_seconds=1.5)
    with pytest.raises(TargetError, match="unreachable|timed out"):
        reconcile("cluster", cluster.pk)
    cluster.refresh_from_db()
    assert cluster.state == managed.ERROR
    kube_env.auto_settle()
    outcome = reconcile_until_settled("cluster", cluster.pk, timeout=20, interval=0.05)
    assert outcome.state == managed.RUNNING


def test_transient_failures_are_retried_until_settled(kube_env):
    cluster = make_cluster(kube_env)
    kube_env.auto_settle()
    kube_env.inject(status=500, count=3)  # the first three calls fail, whatever they are
    outcome = reconcile_until_settled("cluster", cluster.pk, timeout=20, interval=0.05)
    assert outcome.state == managed.RUNNING
    cluster.refresh_from_db()
    assert any(m.startswith("PendingCreation -> Error") for m in events(cluster, "StateChanged"))


def test_conflict_from_the_api_server_is_retried(kube_env):
    cluster = make_cluster(kube_env)
    kube_env.inject(status=409, count=2, method="PATCH", path_contains="/statefulsets/")
    run(cluster)
    assert cluster.state == managed.PENDING_CREATION
    assert kube_env.store.find("StatefulSet", "redis", "rec") is not None
    patches = [r for r in kube_env.emulator.requests if r.method == "PATCH" and "/statefulsets/" in r.path]
    assert len(patches) == 3  # two conflicts, then the apply that went through


def test_stale_resource_version_is_refused_by_the_emulator(kube_env):
    cluster = running_cluster(kube_env)
    core = k8s.CoreV1Api(kubectl(kube_env))
    secret = core.read_namespaced_secret(cluster.name, "redis")
    secret.metadata.resource_version = "1"
    with pytest.raises(k8s.ApiException) as caught:
        core.replace_namespaced_secret(cluster.name, "redis", secret)
    assert caught.value.status == 409


def test_namespace_not_created_when_not_allowed(kube_env):
    kube_env.target.settings = {**kube_env.target.settings, "create_namespaces": False}
    kube_env.target.save()
    cluster = make_cluster(kube_env)
    with pytest.raises(TargetError, match="namespace redis does not exist"):
        reconcile("cluster", cluster.pk)
