"""What a cluster or database becomes on this machine: processes, ports, files. Pure functions.

    <var>/<target>/<cluster>/_sentinels/<i>/      sentinel.conf, sentinel.pid, sentinel.log
    <var>/<target>/<cluster>/_sentinels_tls/<i>/  the same for the TLS-speaking group (replica_ssl databases)
    <var>/<target>/<cluster>/_sentinels_tls/tls/  its certificate (tls.py)
    <var>/<target>/<cluster>/<db>/shard-<s>-<r>/  redis.conf, redis.pid, redis.log, dump.rdb, appendonlydir
    <var>/<target>/<cluster>/<db>/endpoint/       haproxy.cfg, haproxy.pid, haproxy.sock

A database shard is process r=0 plus r=1 with replication; which of them is master is decided at
run time by the cluster's sentinels, never by the layout.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from specs.database import DatabaseSpec, RedisConfig

SENTINEL_DOWN_AFTER_MS = 2000
SENTINEL_FAILOVER_TIMEOUT_MS = 10000


@dataclass(frozen=True)
class Process:
    """One redis-server or redis-sentinel process and its files."""
    name: str
    port: int
    directory: Path
    program: str  # "redis" | "sentinel"
    # A sentinel's own password (requirepass; the cluster's bootstrap password): clients of the quorum and the
    # members among themselves authenticate with it. Shard processes carry theirs in DatabaseParts.
    password: str = field(default="", repr=False, compare=False)

    @property
    def config_file(self) -> Path:
        return self.directory / f"{self.program}.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / f"{self.program}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"{self.program}.log"

    @property
    def state_file(self) -> Path:
        """What the control plane knows about the process beyond Redis's own files (its version)."""
        return self.directory / "controlplane.json"


@dataclass(frozen=True)
class SentinelProcess(Process):
    tls_port: int = 0  # the TLS group: the port its peers reach it on (TLS, client certificate required)


@dataclass(frozen=True)
class ShardProcess(Process):
    shard: int = 0
    replica_index: int = 0
    tls_port: int = 0  # with tlsMode: the port clients reach through the endpoint; `port` stays plain for
    # the control plane (loopback, password required), and for the replication link and the sentinels unless
    # tlsMode is replica_ssl (then they use the TLS port too; a TLS Redis Cluster's bus is the TLS port + 10000)

    @property
    def client_port(self) -> int:
        """Where the endpoint sends clients: the TLS port when the database has TLS on."""
        return self.tls_port or self.port

    def has_data(self) -> bool:
        """Whether persistence files with content exist (an empty data dir must never become master)."""
        rdb = self.directory / "dump.rdb"
        aof_dir = self.directory / "appendonlydir"
        if rdb.exists() and rdb.stat().st_size > 0:
            return True
        return aof_dir.is_dir() and any(f.stat().st_size > 0 for f in aof_dir.iterdir() if ".aof" in f.name)

    def data_mtime(self) -> float:
        files = [self.directory / "dump.rdb", *((self.directory / "appendonlydir").glob("*"))]
        return max((f.stat().st_mtime for f in files if f.exists()), default=0.0)


def target_root(var_dir: Path, target_name: str) -> Path:
    return Path(var_dir) / target_name


def cluster_root(var_dir: Path, target_name: str, cluster_name: str) -> Path:
    return target_root(var_dir, target_name) / cluster_name


def database_root(var_dir: Path, target_name: str, cluster_name: str, database_name: str) -> Path:
    return cluster_root(var_dir, target_name, cluster_name) / database_name


@dataclass(frozen=True)
class SentinelGroup:
    """One of a cluster's two sentinel groups (docs/tls.md): `plain` watches databases whose replication is plain,
    `tls` (tls-replication yes: every link of its members is TLS) those with tlsMode replica_ssl."""
    kind: str  # "" for the plain group, "tls" for the TLS-speaking one
    folder: str

    def key(self, cluster_name: str, index: int) -> str:
        return f"{self.prefix(cluster_name)}{index}"

    def prefix(self, cluster_name: str) -> str:
        return f"cluster/{cluster_name}/{self.kind + '-' if self.kind else ''}sentinel/"

    def tls_key(self, cluster_name: str, index: int) -> str:
        """The registry key of a member's TLS port (the TLS group only)."""
        return f"{self.tls_prefix(cluster_name)}{index}"

    def tls_prefix(self, cluster_name: str) -> str:
        return f"cluster/{cluster_name}/tls-sentinel-port/"

    def member_name(self, index: int) -> str:
        return f"{self.kind + '-' if self.kind else ''}sentinel-{index}"


PLAIN_SENTINELS = SentinelGroup("", "_sentinels")
TLS_SENTINELS = SentinelGroup("tls", "_sentinels_tls")


def sentinel_group(spec: DatabaseSpec) -> SentinelGroup:
    """The group that watches a database: TLS-speaking for replica_ssl (encrypted replication)."""
    return TLS_SENTINELS if spec.tls_mode == "replica_ssl" else PLAIN_SENTINELS


def sentinel_key(cluster_name: str, index: int) -> str:
    return PLAIN_SENTINELS.key(cluster_name, index)


def database_key_prefix(cluster_name: str, database_name: str) -> str:
    return f"db/{cluster_name}/{database_name}/"


def shard_key(cluster_name: str, database_name: str, shard: int, replica_index: int) -> str:
    return f"{database_key_prefix(cluster_name, database_name)}{shard}/{replica_index}"


def slot_of_key(key: str) -> tuple[int, int]:
    """(shard, replica_index) from a shard_key."""
    shard, replica_index = key.rsplit("/", 2)[1:]
    return int(shard), int(replica_index)


def sentinel_processes(root: Path, ports: list[int], password: str = "", group: SentinelGroup = PLAIN_SENTINELS,
                       tls_ports: list[int] | None = None) -> list[SentinelProcess]:
    return [sentinel_process(root, i, port, password, group, (tls_ports or [])[i] if tls_ports else 0)
            for i, port in enumerate(ports)]


def sentinel_process(root: Path, index: int, port: int, password: str = "", group: SentinelGroup = PLAIN_SENTINELS,
                     tls_port: int = 0) -> SentinelProcess:
    return SentinelProcess(name=group.member_name(index), port=port, directory=root / group.folder / str(index),
                           program="sentinel", password=password, tls_port=tls_port)


def sentinel_tls_directory(root: Path) -> Path:
    """Where the TLS sentinel group's certificate lives (the cluster CA signs it)."""
    return root / TLS_SENTINELS.folder / "tls"


def shard_slots(spec: DatabaseSpec) -> list[tuple[int, int]]:
    """(shard, replica_index) of every process the spec asks for."""
    return [(s, r) for s in range(spec.shard_count) for r in range(spec.processes_per_shard)]


def shard_processes(root: Path, ports: dict[tuple[int, int], int],
                    tls_ports: dict[tuple[int, int], int] | None = None) -> list[ShardProcess]:
    return [ShardProcess(name=f"shard-{s}-{r}", port=port, directory=root / f"shard-{s}-{r}", program="redis",
                         shard=s, replica_index=r, tls_port=(tls_ports or {}).get((s, r), 0))
            for (s, r), port in sorted(ports.items())]


def tls_key(cluster_name: str, database_name: str, shard: int, replica_index: int) -> str:
    """The port registry key of a shard process's TLS port."""
    return f"tls/{cluster_name}/{database_name}/{shard}/{replica_index}"


def monitor_name(database_name: str, shard: int) -> str:
    """The name a shard's master is known by in the cluster's sentinels."""
    return f"{database_name}-{shard}"


def endpoint_directory(db_root: Path) -> Path:
    return db_root / "endpoint"


def quorum(nodes: int) -> int:
    return nodes // 2 + 1


def _process_lines(process: Process, rewritten_by: str) -> list[str]:
    """What every process we start shares: loopback only, its port, and its files in its own directory."""
    return [
        f"# Written by the control plane; {rewritten_by}.",
        "bind 127.0.0.1",
        f"port {process.port}",
        "daemonize yes",
        f'pidfile "{process.pid_file}"',
        f'logfile "{process.log_file}"',
        f'dir "{process.directory}"',
    ]


def redis_conf(process: ShardProcess, config: RedisConfig, *, password: str,
               replica_of: int | None, cluster_mode: bool = False, modules: tuple[Path, ...] = (),
               username: str | None = None, tls: dict[str, str] | None = None) -> str:
    """redis.conf for a shard process. Redis itself rewrites it later (CONFIG REWRITE, sentinel).

    With `username` (the default user off, docs/acl.md) the control plane's own user is defined here, so
    replication and health checks work from the first second; other ACL users are set by the reconcile."""
    lines = [
        *_process_lines(process, "redis-server rewrites it on CONFIG REWRITE"),
        f'requirepass "{password}"',
        f'masterauth "{password}"',
        f"maxmemory {config.maxmemory}",
        f"maxmemory-policy {config.maxmemory_policy}",
        f"appendonly {config.appendonly}",
        f"appendfsync {config.appendfsync}",
        f'save "{config.save}"',
        "replica-serve-stale-data yes",
        "replica-read-only yes",
        "repl-diskless-sync yes",
        "repl-diskless-sync-delay 0",
        "protected-mode yes",
    ]
    if username:
        lines += [f'masteruser "{username}"', f"user {username} on >{password} ~* &* +@all", "user default off"]
    if cluster_mode:
        lines += ["cluster-enabled yes", f'cluster-config-file "{process.directory / "nodes.conf"}"',
                  "cluster-node-timeout 3000"]
    lines += [f'loadmodule "{library}"' for library in modules]
    lines += [f'{key} "{value}"' for key, value in (tls or {}).items()]
    if replica_of is not None:
        lines.append(f"replicaof 127.0.0.1 {replica_of}")
    return "\n".join(lines) + "\n"


def sentinel_conf(process: Process, tls: dict[str, str] | None = None) -> str:
    """sentinel.conf for a quorum member; masters are added at run time with SENTINEL MONITOR."""
    return "\n".join([
        *_process_lines(process, "redis-sentinel rewrites it as it learns"),
        *sentinel_password_lines(process),
        *sentinel_tls_lines(tls),
        "sentinel resolve-hostnames no",
        "sentinel announce-hostnames no",
    ]) + "\n"


def sentinel_tls_lines(tls: dict[str, str] | None) -> list[str]:
    """The TLS group's settings (tls-replication yes: it talks TLS to the shards and to its peers)."""
    return [f'{key} "{value}"' for key, value in (tls or {}).items()]


def sentinel_password_lines(process: Process) -> list[str]:
    """requirepass: clients must authenticate, and each member uses it to reach the others."""
    return [f'requirepass "{process.password}"'] if process.password else []
