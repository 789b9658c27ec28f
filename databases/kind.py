"""The database kind (REDB), as the registry in core/kinds.py lists it; registered in DatabasesConfig.ready."""
from __future__ import annotations

from accounts.permissions import is_owner_or_staff
from core import kinds
from core.drivers import Condition, Observation
from targets import managed

from . import services
from .models import Database
from .validation import stored_database_problems


def summary(database: Database) -> dict:
    """The spec fields dashboards show, defaulted by the typed spec (no credentials)."""
    spec = database.typed_spec
    return {
        "memorySize": database.spec.get("memorySize"), "memoryBytes": spec.memory_bytes,
        "shardCount": spec.shard_count, "replication": spec.replication,
        "persistence": spec.persistence, "evictionPolicy": spec.eviction_policy,
        "databasePort": spec.port, "redisVersion": spec.redis_version,
    }


def wait_for_cluster(database: Database) -> Observation | None:
    """A database waits (`pending`) until its cluster has run once; None when it may be applied."""
    cluster = database.cluster
    if cluster.deletion_requested_at is None \
            and cluster.state in ("", managed.PENDING_CREATION, managed.INVALID) \
            and not cluster.status.get("everRunning"):
        return Observation(
            state=managed.DB_PENDING,
            conditions=[Condition("ClusterReady", "False", "WaitingForCluster",
                                  f"cluster {cluster.name} is {cluster.state or 'not reconciled yet'}")],
            settled=False,
        )
    return None


DATABASE = kinds.Kind(
    name="database",
    api_kind="RedisEnterpriseDatabase",
    short_name="REDB",
    api_versions=("app.redislabs.com/v1alpha1",),
    model=Database,
    statuses=managed.DATABASE_STATUSES,
    stored_problems=stored_database_problems,
    upgrade=services.upgrade_database,
    request_deletion=services.delete_database,
    summary=summary,
    target_field="cluster__target",
    team_scoped=True,
    parent="cluster",
    precondition=wait_for_cluster,
    may_manage=is_owner_or_staff,
)
