"""The services rigger: keep Service `<db>` selecting the current master after a failover.

Service `<db>` selects pods labelled `redis.io/role=master`. The sentinels decide who the master is
(the control plane never promotes); the rigger only moves the label to follow them. Inside the
cluster each pod of a non-sharded database also labels itself by the same rule (its `rigger`
sidecar, kube/render/rigger.py), which keeps working while the control plane is down; this one is the
level-triggered backup of the reconcile, and it agrees with the sidecar: the sentinels' choice,
labelled master once its Redis reports ROLE master. Without a
data plane it keeps the label where it is, and at bootstrap puts it on the pod the start script
makes master (ordinal 0; for a sharded database the first `shardCount` pods).
"""
from __future__ import annotations

from core.drivers import Happening, driver_for
from core.errors import InternalError, TargetError
from core.locks import LockBusy
from databases.models import Database
from dataplane.cluster import MASTER, REPLICA
from engine.reconcile import reconcile
from targets.models import Target

from .client import KubeApi
from .podspec import ROLE_LABEL


def choose_masters(pod_names: list[str], current_masters: list[str], sentinel_master: str | None,
                   shard_count: int) -> list[str]:
    """Pure: the pods that should carry the master label."""
    if sentinel_master:
        # Sentinels announce `<pod>.<db>-headless.<ns>.svc.cluster.local`.
        name = sentinel_master.split(".", 1)[0]
        if name in pod_names:
            return [name]
    kept = [name for name in current_masters if name in pod_names]
    if kept:
        return sorted(kept)
    by_ordinal = sorted(pod_names, key=lambda n: int(n.rsplit("-", 1)[1]))
    return by_ordinal[:shard_count]


def rig(api: KubeApi, pods: list[dict], masters: list[str]) -> list[Happening]:
    """Label `masters` master and every other pod replica; only pods whose label is wrong are written."""
    happenings = []
    before = sorted(p["metadata"]["name"] for p in pods
                    if (p["metadata"].get("labels") or {}).get(ROLE_LABEL) == MASTER)
    for pod in pods:
        meta = pod["metadata"]
        role = MASTER if meta["name"] in masters else REPLICA
        if (meta.get("labels") or {}).get(ROLE_LABEL) != role:
            api.merge_patch("Pod", meta["namespace"], meta["name"], {"metadata": {"labels": {ROLE_LABEL: role}}})
            meta.setdefault("labels", {})[ROLE_LABEL] = role
    if before and masters and before != sorted(masters):
        happenings.append(Happening("MasterChanged", f"master moved from {', '.join(before)} to {', '.join(masters)}; "
                                    "the database Service follows it"))
    return happenings


def follow_masters() -> int:
    """Reconcile every replicated database whose sentinels report a master other than the one its
    Service selects; returns how many moved. Run every few seconds (Celery beat, `kube.tasks.follow_masters`)
    so a failover is followed within seconds, not at the next periodic pass. Costs one sentinel query per
    replicated database and no Kubernetes call unless something moved."""
    moved = 0
    for target in Target.objects.filter(kind=Target.KUBERNETES):
        dataplane = driver_for(target).dataplane
        if not dataplane.enabled:
            continue
        databases = Database.objects.filter(cluster__target=target, deletion_requested_at__isnull=True) \
            .select_related("cluster")
        for database in databases:
            spec = database.typed_spec
            if not spec.replication or spec.is_cluster or not database.status.get("master"):
                continue
            host = dataplane.master_host(database)
            if host is None or host.split(".", 1)[0] == database.status["master"]:
                continue
            try:
                reconcile("database", database.pk, lock_wait=0)
                moved += 1
            except (LockBusy, TargetError, InternalError):
                continue  # a reconcile is running, or will be retried; the next round looks again
    return moved
