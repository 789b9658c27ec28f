"""The cluster kind (REC), as the registry in core/kinds.py lists it; registered in ClustersConfig.ready."""
from __future__ import annotations

from core import kinds
from operatorapi.schema import REC
from targets.managed import CLUSTER_STATUSES

from . import services
from .models import Cluster
from .validation import stored_cluster_problems


def summary(cluster: Cluster) -> dict:
    """The spec fields dashboards show (no credentials, no placement)."""
    spec = cluster.typed_spec
    return {"nodes": spec.nodes, "redisVersion": spec.redis_version}


def deletion_blocker(cluster: Cluster) -> str:
    """A cluster goes only after its databases: their names while any is left."""
    names = list(cluster.databases.values_list("name", flat=True)[:10])
    return f"databases still present: {', '.join(names)}" if names else ""


CLUSTER = kinds.Kind(
    name="cluster",
    **REC.registry_names(),
    model=Cluster,
    statuses=CLUSTER_STATUSES,
    stored_problems=stored_cluster_problems,
    update=services.update_cluster,
    upgrade=services.upgrade_cluster,
    request_deletion=services.delete_cluster,
    summary=summary,
    target_field="target",
    namespace_field="namespace",
    deletion_blocker=deletion_blocker,
)
