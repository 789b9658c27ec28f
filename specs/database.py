"""Typed, defaulted view of a stored REDB spec, for rendering and target drivers."""
from dataclasses import dataclass, field

from core.quantity import MIB, parse_memory

PERSISTENCE_MODES = ["disabled", "aofEverySecond", "aofAlways", "snapshotEvery1Hour", "snapshotEvery6Hour",
                     "snapshotEvery12Hour"]
EVICTION_POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
                     "volatile-random", "volatile-ttl"]
TLS_MODES = ["disabled", "enabled", "replica_ssl"]
DEFAULT_EVICTION_POLICY = "volatile-lru"
# Every shard process gets at least this much memory (Redis convention: 100MB = 100 x 1024 x 1024 bytes).
MIN_MEMORY_BYTES = 100 * MIB
# A sane ceiling on shards per database, whatever the target could host.
MAX_SHARDS = 512


@dataclass(frozen=True)
class RedisConfig:
    """Settings a redis-server process gets, in redis.conf terms."""
    maxmemory: int
    maxmemory_policy: str
    appendonly: str  # "yes" | "no"
    appendfsync: str  # "everysec" | "always"
    save: str  # "" or "3600 1" etc.

    def as_config_set(self) -> dict[str, str]:
        """The settings Redis can change live with CONFIG SET."""
        return {
            "maxmemory": str(self.maxmemory),
            "maxmemory-policy": self.maxmemory_policy,
            "appendonly": self.appendonly,
            "appendfsync": self.appendfsync,
            "save": self.save,
        }


@dataclass(frozen=True)
class DatabaseSpec:
    memory_bytes: int = MIN_MEMORY_BYTES
    shard_count: int = 1
    replication: bool = False
    persistence: str = "disabled"
    eviction_policy: str = DEFAULT_EVICTION_POLICY
    port: int | None = None
    secret_name: str = ""
    redis_version: str | None = None
    tls_mode: str = "disabled"
    modules: list = field(default_factory=list)
    oss_cluster: bool = False  # `ossCluster: true`: a Redis Cluster from its first shard, so it can grow online
    backup: bool = False  # has a `backup` field (what it says: databases/backup_spec.py)
    follows: bool = False  # has `replicaSources` (databases/replica_sources.py)
    default_user: bool = True  # `defaultUser: false`: the default user is off (docs/acl.md)
    roles_permissions: list = field(default_factory=list)  # [{type, role, acl}]: role grants an ACL here
    # `clientAuthenticationCertificates`: mutual TLS, only clients with a certificate these CAs signed connect
    client_certificates: tuple[str, ...] = ()

    @property
    def is_cluster(self) -> bool:
        """Served as a Redis Cluster (clients speak the cluster protocol): sharded, or asked for with ossCluster."""
        return self.shard_count > 1 or self.oss_cluster

    @property
    def module_names(self) -> list[str]:
        """Names in `modulesList`, in order (ReJSON, bf, ...)."""
        return [m["name"] for m in self.modules if isinstance(m, dict) and isinstance(m.get("name"), str)]

    @property
    def processes_per_shard(self) -> int:
        return 2 if self.replication else 1

    @property
    def process_count(self) -> int:
        return self.shard_count * self.processes_per_shard

    @property
    def footprint_bytes(self) -> int:
        """Memory the database takes from its cluster's capacity (x2 with replication)."""
        return self.memory_bytes * self.processes_per_shard

    @property
    def shard_memory_bytes(self) -> int:
        return self.memory_bytes // self.shard_count

    def redis_config(self) -> RedisConfig:
        persistence = self.persistence
        save = {"snapshotEvery1Hour": "3600 1", "snapshotEvery6Hour": "21600 1",
                "snapshotEvery12Hour": "43200 1"}.get(persistence, "")
        return RedisConfig(
            maxmemory=self.shard_memory_bytes,
            maxmemory_policy=self.eviction_policy,
            appendonly="yes" if persistence.startswith("aof") else "no",
            appendfsync="always" if persistence == "aofAlways" else "everysec",
            save=save,
        )

    @classmethod
    def from_spec(cls, spec: dict, name: str = "") -> "DatabaseSpec":
        return cls(
            memory_bytes=parse_memory(spec.get("memorySize", "100MB")),
            shard_count=int(spec.get("shardCount", 1)),
            replication=bool(spec.get("replication", False)),
            persistence=str(spec.get("persistence", "disabled")),
            eviction_policy=str(spec.get("evictionPolicy", DEFAULT_EVICTION_POLICY)),
            port=int(spec["databasePort"]) if spec.get("databasePort") is not None else None,
            secret_name=str(spec.get("databaseSecretName") or f"redb-{name}"),
            redis_version=spec.get("redisVersion"),
            tls_mode=str(spec.get("tlsMode", "disabled")),
            modules=list(spec.get("modulesList") or []),
            oss_cluster=spec.get("ossCluster") is True,
            backup=isinstance(spec.get("backup"), dict),
            follows=bool(spec.get("replicaSources")),
            default_user=spec.get("defaultUser") is not False,
            roles_permissions=[p for p in spec.get("rolesPermissions") or [] if isinstance(p, dict)],
            client_certificates=tuple(spec.get("clientAuthenticationCertificates") or ()),
        )
