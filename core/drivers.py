"""The seam between the reconciler and the places clusters are realised.

A driver turns a stored object into reality (apply) and reports what is really there
(an Observation). It is idempotent and level-triggered: called again with nothing changed it
changes nothing. The reconciler (engine/reconcile.py) owns locking, status writes, events and
retries; drivers own only their target's side effects.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from .errors import TargetError

# What a driver is handed, named without importing the layers above this one: a Target row
# (targets.models), a Cluster or Database row (clusters.models, databases.models) and the typed
# database spec (specs.database).
Target = Cluster = Database = DatabaseSpec = Any


@dataclass
class Condition:
    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str = ""
    message: str = ""

    def as_dict(self) -> dict:
        return {"type": self.type, "status": self.status, "reason": self.reason, "message": self.message}


@dataclass
class Happening:
    """Something the driver did or saw that belongs in the timeline (a drift fix, a failover)."""
    reason: str
    message: str
    warning: bool = False


@contextlib.contextmanager
def kept_on_failure(happenings: list[Happening]):
    """What a pass did before a TargetError still reaches the timeline: the error carries `happenings` (the
    list as it stands then; callers add to it in place), and the engine records them with the error."""
    try:
        yield happenings
    except TargetError as exc:
        exc.happenings = [*happenings, *exc.happenings]
        raise


@dataclass
class Observation:
    state: str
    conditions: list[Condition] = field(default_factory=list)
    happenings: list[Happening] = field(default_factory=list)
    # Extra status fields shown to users, e.g. {"version": "7.2", "master": "pod-0", "rollout": "2/3"}.
    details: dict = field(default_factory=dict)
    # False while the object is still converging, so the reconciler looks again soon.
    settled: bool = True


@dataclass
class ConnectionInfo:
    host: str
    port: int
    service_names: list[str]
    # Extra lines a user needs to connect from outside, e.g. a `kubectl port-forward` command.
    hints: list[str] = field(default_factory=list)
    # tlsMode on, where the control plane itself connects (metrics sampling on the local target): the CA,
    # certificate and key files it connects over TLS with. Never shown to users.
    control_tls: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class ShardSource:
    """Where a backup copies one shard's RDB from: an in-sync replica when there is one (so the master is
    not forked), else the master; `host`/`port` as the control plane reaches it."""
    shard: int
    process: str
    port: int
    role: str  # "replica" | "master"
    slots: tuple[int, ...] = ()
    host: str = "127.0.0.1"


@dataclass
class Probe:
    """What checking a target found: the server's version and the permissions the control plane lacks there."""
    server_version: str
    missing_permissions: list[str] = field(default_factory=list)


class Driver(Protocol):
    target: Target

    def redis_versions(self) -> list[str]:
        """Versions a database (and cluster) may run on this target, oldest first."""

    def apply_cluster(self, cluster: Cluster) -> Observation: ...

    def apply_database(self, database: Database) -> Observation: ...

    def delete_cluster(self, cluster: Cluster) -> bool:
        """Remove what the cluster created; True once nothing is left."""

    def delete_database(self, database: Database) -> bool:
        """Remove what the database created (data kept unless `delete_data`); True once gone."""

    def connection_info(self, database: Database) -> ConnectionInfo:
        """Where clients reach the database; a pure function of the stored spec (no I/O)."""

    def database_spec_problems(self, wanted: DatabaseSpec, current: DatabaseSpec | None,
                               cluster: Cluster | None = None) -> dict[str, str]:
        """What this target cannot realise in `wanted`, or cannot reach from `current` in place (on `cluster`,
        when given: room for what the cluster must add for it), as {field path: message}; the validator refuses
        such a write up front."""

    def database_ports(self) -> range:
        """The `databasePort`s this target accepts and assigns from (a configured range)."""

    def free_database_port(self, cluster: Cluster, taken: set[int]) -> int:
        """A `databasePort` to assign when the spec has none: not in `taken`, and usable on this target."""

    def batch(self) -> contextlib.AbstractContextManager:
        """A scope for a periodic pass; a driver may list each kind once and serve reads from it."""

    def probe(self) -> Probe:
        """Reach the target: its version and what it does not allow; TargetError when it cannot be reached."""

    def install_definitions(self) -> list[str]:
        """Install what the target needs once it is added (the REC/REDB CRDs on Kubernetes), if allowed;
        notes for the user about what could not be installed."""

    def take_in(self) -> list[str]:
        """Take in what users declared on the target itself (REC/REDB custom resources made with kubectl),
        through the services; one line per object synced. For `reconcile` without a watcher."""

    def mirror(self, obj: Cluster | Database) -> None:
        """After a reconcile (or the row's deletion), show the object where the target keeps its own copy of
        it (the REC/REDB custom resources on Kubernetes); never raises."""

    def database_is_back(self, database: Database) -> bool:
        """During a cluster recovery: the database serves again (its master answers where clients reach it),
        checked at once without waiting; False, never an exception, when it does not."""

    def data_address(self, database: Database) -> tuple[str, int]:
        """Where the control plane itself reaches the database's master (a node of a sharded one) with a
        Redis client: backups, restores, samples. TargetError at once when it cannot (no waiting on a timeout)."""

    def backup_sources(self, database: Database) -> list[ShardSource]:
        """One source per shard to copy its RDB from; TargetError when a shard has no live master."""

    def secret_values(self, database: Database, name: str) -> dict[str, str] | None:
        """The keys of the secret `name` a field of the database names (`backup.s3.awsSecretName`, a
        `replicaSources` SECRET) where the target keeps secrets (a Kubernetes Secret in the database's namespace),
        decoded; {} when there is no such secret; None when the target keeps none (the control plane's store)."""


def common_spec_problems(wanted: DatabaseSpec, target_kind: str,
                         tls_modes: tuple[str, ...] = ("disabled",)) -> dict[str, str]:
    """What a target does not realise, worded alike everywhere; each driver's `database_spec_problems` starts
    from this, naming the tlsMode values it implements."""
    if wanted.tls_mode not in tls_modes:
        return {"spec.tlsMode": f"tlsMode {wanted.tls_mode} is not implemented on {target_kind} targets yet; "
                                f"use tlsMode: {' or '.join(tls_modes)}"}
    return {}


_DRIVERS: dict[str, type] = {}


def register_driver(kind: str):
    """Class decorator: the driver of targets of `kind`. Driver apps import their driver in `ready`."""
    def decorator(cls):
        _DRIVERS[kind] = cls
        return cls
    return decorator


_instances: dict[int | None, tuple[str, Driver]] = {}


def _driver_class(kind: str) -> type:
    if kind not in _DRIVERS:
        raise TargetError(f"no driver for targets of kind {kind!r}")
    return _DRIVERS[kind]


def probe_target(target: Target) -> Probe:
    """Probe a target, saved or not, with a fresh driver (nothing cached from an earlier connection)."""
    return _driver_class(target.kind)(target).probe()


def install_target_definitions(target: Target) -> list[str]:
    """`install_definitions` of a target just added or reconnected, with a fresh driver."""
    return _driver_class(target.kind)(target).install_definitions()


def driver_for(target: Target) -> Driver:
    """The driver of a target, one per target per process; a target whose kind, settings or credentials
    changed gets a new one in place of the old."""
    version = repr((target.kind, sorted(target.settings.items()), target.kubeconfig_sealed))
    cached = _instances.get(target.pk)
    if cached is None or cached[0] != version:
        cached = (version, _driver_class(target.kind)(target))
        _instances[target.pk] = cached
    return cached[1]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tls_mode_change_problems(wanted: DatabaseSpec, current: DatabaseSpec | None) -> dict[str, str]:
    """A Redis Cluster's tlsMode is fixed at creation: its bus port follows the TLS port (tls-cluster), and its
    replicas' links are made by the cluster, which does not re-point them for tls-replication."""
    if current is None or not current.is_cluster or current.tls_mode == wanted.tls_mode:
        return {}
    return {"spec.tlsMode": f"a sharded database (Redis Cluster) keeps the tlsMode it was created with "
                            f"({current.tls_mode}); create a new database to change it"}


def cluster_mutual_tls_problems(spec: DatabaseSpec) -> dict[str, str]:
    """Mutual TLS on a Redis Cluster is refused on every target: Redis checks the cluster bus's peers against the
    same CA file as clients (tls-cluster), so an application's client certificate could join the bus."""
    if not (spec.client_certificates and spec.is_cluster):
        return {}
    return {"spec.clientAuthenticationCertificates": "mutual TLS on a sharded database (Redis Cluster) is not "
            "offered: Redis verifies the cluster bus's peers with the same CA file as clients, so a client "
            "certificate could join the bus; use shardCount 1, or TLS without client certificates"}


# The one wording of a shard-count change that would turn a plain Redis server into a Redis Cluster or back.
NOT_SHARDED_IN_PLACE = ("a database created with shardCount 1 and without ossCluster: true is a plain Redis server "
                        "and cannot become sharded in place: a sharded database is a Redis Cluster, which only "
                        "clients speaking the cluster protocol can use (redis-cli -c, RedisCluster clients). To get "
                        "there, create a new database with ossCluster: true (a Redis Cluster from its first shard, "
                        "which then grows online) or with the shard count you need, move cluster-aware clients to "
                        "it and copy the data over")
NOT_UNSHARDED_IN_PLACE = ("a sharded database is a Redis Cluster and stays one: shardCount 1 without ossCluster: "
                          "true would make it a plain Redis server, which its cluster clients cannot use. Create "
                          "a new database with shardCount 1 and copy the data over")


def sharding_change_problems(wanted: DatabaseSpec, current: DatabaseSpec | None) -> dict[str, str]:
    """Slots move online only between Redis Cluster layouts (sharded, or ossCluster: true from one shard); a
    change between a plain server and a Redis Cluster is refused on every target."""
    if current is None or current.is_cluster == wanted.is_cluster:
        return {}
    return {"spec.shardCount": NOT_UNSHARDED_IN_PLACE if current.is_cluster else NOT_SHARDED_IN_PLACE}
