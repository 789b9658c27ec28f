"""The watcher against the API server emulator: list + watch with the official client, bookmarks,
410 Gone answered by a relist, and owned objects put back within seconds of an out-of-band change."""
from __future__ import annotations

import pytest

from clusters.models import Cluster
from core.drivers import driver_for
from databases.models import Database
from kube.crsync.watch import TargetWatcher

from .test_sync import REC, kubectl_apply, redb, settle
from .waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)




@pytest.fixture
def watcher(crd_env):
    crd_env.emulator.bookmark_interval = 0.2
    running = TargetWatcher(crd_env.target).start()
    assert running.wait_ready(20)
    yield running
    running.close(timeout=5)


def test_a_kubectl_apply_is_picked_up_by_the_watch(crd_env, watcher):
    kubectl_apply(crd_env, REC)
    assert eventually(lambda: Cluster.objects.filter(name="rec").exists())
    api = driver_for(crd_env.target).api
    # Adopted: the stored spec (defaults filled in) written back, and taken in.
    assert eventually(lambda: (api.get("RedisEnterpriseCluster", "redis", "rec").get("status") or {})
                      .get("observedGeneration") == 2)
    assert Cluster.objects.get(name="rec").spec == api.get("RedisEnterpriseCluster", "redis", "rec")["spec"]


def test_bookmarks_move_the_version_on_and_410_gone_relists(crd_env, watcher):
    redb_watch = next(w for w in watcher.watches if w.kind == "RedisEnterpriseDatabase")
    before = int(redb_watch.resource_version)
    driver_for(crd_env.target).api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "unrelated", "namespace": "redis"},
                                          "data": {"a": "b"}})
    # A change to another kind reaches this watch only as a bookmark with a newer version.
    assert eventually(lambda: int(redb_watch.resource_version) > before)
    kubectl_apply(crd_env, REC)
    assert eventually(lambda: Cluster.objects.filter(name="rec").exists())
    versions = {w.kind: w.resource_version for w in watcher.watches}
    watcher.close(timeout=5)

    kubectl_apply(crd_env, redb())  # while no one watches
    crd_env.store.log.compact()  # etcd compaction: the versions the watcher stopped at are gone
    resumed = TargetWatcher(crd_env.target)
    for each in resumed.watches:
        each.resource_version = versions[each.kind]
    resumed.start()
    try:
        redb_watch = next(w for w in resumed.watches if w.kind == "RedisEnterpriseDatabase")
        assert eventually(lambda: redb_watch.lists == 1)  # resumed, got 410 Gone, listed again
        assert eventually(lambda: Database.objects.filter(name="mydb").exists())
    finally:
        resumed.close(timeout=5)


def test_an_out_of_band_scale_is_put_back_by_the_owned_object_watch(crd_env, settings):
    from clusters.services import create_cluster

    cluster = create_cluster(name="rec", spec={"nodes": 3}, namespace="redis", target=crd_env.target,
                             actor="test").obj
    settle(cluster)
    settings.CONTROLPLANE_RECONCILE_MODE = "inline"
    running = TargetWatcher(crd_env.target).start()
    try:
        assert running.wait_ready(20)
        api = driver_for(crd_env.target).api
        api.merge_patch("StatefulSet", "redis", "rec", {"spec": {"replicas": 1}})
        assert eventually(lambda: api.get("StatefulSet", "redis", "rec")["spec"]["replicas"] == 3)
        api.delete("Service", "redis", "rec")
        assert eventually(lambda: api.get("Service", "redis", "rec") is not None)
        assert running.reconciles_requested >= 2
    finally:
        running.close(timeout=5)
