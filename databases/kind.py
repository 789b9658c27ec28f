"""The database kind (REDB), as the registry in core/kinds.py lists it; registered in DatabasesConfig.ready."""
from __future__ import annotations

from accounts.permissions import is_owner_or_staff
from core import kinds
from core.drivers import Condition, Observation
from operatorapi.schema import REDB
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


def resource_status(database: Database) -> dict:
    """The REDB status field naming the Secret that holds the database's password (the operator's field)."""
    return {"databaseSecretName": database.typed_spec.secret_name}


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
    **REDB.registry_names(),
    model=Database,
    statuses=managed.DATABASE_STATUSES,
    stored_problems=stored_database_problems,
    update=services.update_database,
    upgrade=services.upgrade_database,
    request_deletion=services.delete_database,
    summary=summary,
    target_field="cluster__target",
    namespace_field="cluster__namespace",
    team_scoped=True,
    parent="cluster",
    precondition=wait_for_cluster,
    may_manage=is_owner_or_staff,
    resource_status=resource_status,
)
