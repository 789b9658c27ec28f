"""Fields Kubernetes cannot change in place: expand volumes when allowed, otherwise say why (Invalid)."""
from __future__ import annotations

import pytest

from clusters.services import update_cluster
from databases.services import update_database
from targets import managed

from .test_lifecycle import active_database, run, running_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def grow(cluster, size, **extra):
    spec = {**cluster.spec, "persistentSpec": {**cluster.spec.get("persistentSpec", {}), "volumeSize": size, **extra}}
    update_cluster(cluster, spec=spec, actor="test")


def test_volume_growth_without_resize_enabled_is_invalid_with_reason(kube_env):
    cluster = running_cluster(kube_env, persistentSpec={"enabled": True, "volumeSize": "5Gi"})
    writes_before = len(kube_env.emulator.writes())
    grow(cluster, "10Gi")
    run(cluster)
    assert cluster.state == managed.INVALID
    assert "enablePersistentVolumeResize" in cluster.status["conditions"][0]["message"]
    statefulset = kube_env.store.find("StatefulSet", "redis", "rec")
    assert statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    # Nothing was patched that would fail forever: only objects before the StatefulSet may have been applied.
    assert not [w for w in kube_env.emulator.writes()[writes_before:] if "/statefulsets/" in w.path]


def test_volume_growth_expands_claims_and_keeps_pods(kube_env):
    kube_env.store.put_kind("StorageClass", {"metadata": {"name": "fast"}, "allowVolumeExpansion": True,
                                             "provisioner": "example.com/csi"})
    cluster = running_cluster(kube_env, persistentSpec={"enabled": True, "volumeSize": "5Gi",
                                                        "storageClassName": "fast",
                                                        "enablePersistentVolumeResize": True})
    pods_before = {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis")}
    grow(cluster, "10Gi")
    run(cluster)
    kube_env.settle()
    run(cluster)
    assert cluster.state == managed.RUNNING, cluster.status
    sizes = {c["spec"]["resources"]["requests"]["storage"] for c in kube_env.store.all_of("PersistentVolumeClaim",
                                                                                           "redis")}
    assert sizes == {"10Gi"}
    assert {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis")} == pods_before
    statefulset = kube_env.store.find("StatefulSet", "redis", "rec")
    assert statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"


def test_storage_class_without_expansion_is_invalid(kube_env):
    kube_env.store.put_kind("StorageClass", {"metadata": {"name": "slow"}, "provisioner": "example.com/csi"})
    cluster = running_cluster(kube_env, persistentSpec={"enabled": True, "volumeSize": "5Gi",
                                                        "storageClassName": "slow",
                                                        "enablePersistentVolumeResize": True})
    grow(cluster, "10Gi")
    run(cluster)
    assert cluster.state == managed.INVALID
    assert "does not allow volume expansion" in cluster.status["conditions"][0]["message"]


def _as_a_real_server_stores_it(kube_env, name: str) -> None:
    """Add what a real API server stores in every volumeClaimTemplate and the control plane never renders."""
    statefulset = kube_env.store.find("StatefulSet", "redis", name)
    for claim in statefulset["spec"]["volumeClaimTemplates"]:
        claim.update(apiVersion="v1", kind="PersistentVolumeClaim", status={"phase": "Pending"})
        claim["spec"]["volumeMode"] = "Filesystem"
    kube_env.store.put_kind("StatefulSet", statefulset)


def test_update_of_a_persistent_database_is_not_invalid_when_the_server_added_claim_fields(kube_env, team):
    cluster = running_cluster(kube_env, persistentSpec={"enabled": True, "volumeSize": "5Gi"})
    database = active_database(kube_env, cluster, team, persistence="aofEverySecond")
    _as_a_real_server_stores_it(kube_env, "cache")
    update_database(database, spec={**database.spec, "memorySize": "200MB"}, actor="test")
    run(database)
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE, database.status
    statefulset = kube_env.store.find("StatefulSet", "redis", "cache")
    assert "memory" in str(statefulset["spec"]["template"]["spec"]["containers"][0]["resources"])


def test_volume_growth_is_still_seen_when_the_server_added_claim_fields(kube_env):
    cluster = running_cluster(kube_env, persistentSpec={"enabled": True, "volumeSize": "5Gi"})
    _as_a_real_server_stores_it(kube_env, "rec")
    grow(cluster, "10Gi")
    run(cluster)
    assert cluster.state == managed.INVALID
    assert "enablePersistentVolumeResize" in cluster.status["conditions"][0]["message"]
