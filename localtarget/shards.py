"""The shard processes of one database: start what is missing, adopt what runs, retire what the
spec no longer asks for. Who is master is left to the sentinels (see roles.py)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from core.drivers import Happening
from core.errors import TargetError
from specs.database import DatabaseSpec

from . import layout, processes, sentinel, versions
from .haproxy import Endpoint
from .layout import Process, ShardProcess
from .roles import ProcessView, leader_of, start_plan
from .tls import TlsFiles


@dataclass
class DatabaseParts:
    """Everything the local target knows about one database, resolved to paths and ports."""
    name: str
    spec: DatabaseSpec
    version: str
    password: str
    processes: list[ShardProcess]
    retired: list[ShardProcess]
    sentinels: list[Process]
    quorum: int
    endpoint: Endpoint
    monitor: str  # the master name in the cluster's sentinels
    cluster_mode: bool = False  # sharded: Redis Cluster instead of sentinels
    modules: tuple[Path, ...] = ()  # module libraries every process loads at start
    release_port: object = field(default=None, repr=False)  # callable(process): forget its port
    username: str | None = None  # the control plane's ACL user where the default user is off (access/internal.py)
    # Other logins that may still work while the default user is being turned on or off.
    fallback_logins: tuple[tuple[str | None, str], ...] = field(default=(), repr=False)
    wanted_users: dict = field(default_factory=dict, repr=False)  # username -> access.plan.WantedUser
    tls: TlsFiles | None = None  # tlsMode on: the certificate files every process serves TLS with
    # The other sentinel group, which may still watch the database after a tlsMode change (it is moved).
    former_sentinels: list[Process] = field(default_factory=list)

    @property
    def replication_tls(self) -> bool:
        """replica_ssl, and any TLS Redis Cluster: replicas (and sentinels) reach the shards on their TLS ports
        (tls-replication yes). A TLS cluster's nodes announce their TLS ports (tls-cluster), so CLUSTER REPLICATE
        links a replica to its master's TLS port whatever the tlsMode."""
        return self.tls is not None and (self.spec.tls_mode == "replica_ssl" or self.cluster_mode)

    @property
    def bus_tls(self) -> bool:
        """A TLS Redis Cluster: tls-cluster yes, so the bus, MEET and MIGRATE use the TLS ports."""
        return self.tls is not None and self.cluster_mode

    def tls_settings(self, process: ShardProcess) -> dict[str, str]:
        """The TLS settings of a process: its TLS port and files, or the TLS port off."""
        if self.tls is None or not process.tls_port:
            return {"tls-replication": "no", "tls-port": "0"}
        wanted = {"tls-replication": "yes" if self.replication_tls else "no"}
        if self.cluster_mode:
            wanted["tls-cluster"] = "yes"  # set when the cluster is made: its bus port is the TLS port + 10000
        return {**wanted, **self.tls.redis_settings(process.tls_port)}

    def replication_port(self, port: int) -> int:
        """Where replicas and the sentinels reach the process whose plain port is `port`: its TLS port with
        replica_ssl (the address Redis announces then, too), else `port`."""
        if not self.replication_tls:
            return port
        return next((p.tls_port for p in self.processes + self.retired if p.port == port and p.tls_port), port)

    def cluster_port(self, process: ShardProcess) -> int:
        """The port CLUSTER MEET and MIGRATE name for a node: the TLS one on a TLS cluster (tls-cluster)."""
        return process.tls_port if self.bus_tls and process.tls_port else process.port

    def plain_port(self, port: int) -> int:
        """The plain port of the process listening on `port` (a TLS port the sentinels name, or a plain one)."""
        return next((p.port for p in self.processes + self.retired if port in (p.port, p.tls_port)), port)

    def logins(self, process: Process) -> list[tuple[str | None, str | None]]:
        """(username, password) to try on a process: the wanted login, then the default user with the wanted
        password and the one the process runs with (mid-rotation), then the fallbacks."""
        return [(self.username, self.password), (None, self.password), (None, processes.configured_password(process)),
                *self.fallback_logins]

    def client(self, port: int, *, timeout: float = processes.COMMAND_TIMEOUT):
        """A connection as the control plane to one of the database's processes (or its endpoint)."""
        return processes.client(port, self.password, username=self.username, timeout=timeout)

    def sentinel_master_port(self) -> int | None:
        """The plain port of the master the sentinels name (they name the TLS port with replica_ssl)."""
        if self.cluster_mode or not self.spec.replication:
            return None
        port = sentinel.master_port(self.sentinels, self.monitor)
        return None if port is None else self.plain_port(port)


def observe_views(parts: DatabaseParts, members: list[ShardProcess]) -> tuple[list[ProcessView], dict[str, dict]]:
    """What each process is right now, and the INFO of each live one by name."""
    views, infos = [], {}
    for proc in members:
        info = processes.server_info(proc, parts.logins(proc))
        pid = processes.running_pid(proc)
        if info is not None:
            infos[proc.name] = info
        views.append(ProcessView(name=proc.name, port=proc.port, alive=pid is not None,
                                 role=info.get("role") if info else None,
                                 has_data=proc.has_data(), data_mtime=proc.data_mtime()))
    return views, infos


def start_process(parts: DatabaseParts, proc: ShardProcess, replica_of: int | None, version: str) -> None:
    if replica_of is not None:
        replica_of = parts.replication_port(replica_of)
    config = layout.redis_conf(proc, parts.spec.redis_config(), password=parts.password, username=parts.username,
                               replica_of=None if parts.cluster_mode else replica_of, cluster_mode=parts.cluster_mode,
                               modules=parts.modules,
                               tls=parts.tls_settings(proc) if parts.tls is not None else None)
    processes.write_config(proc, config)
    try:
        processes.start(proc, versions.server_binary(version), password=parts.password, username=parts.username)
    except processes.PortTaken:
        if parts.release_port:
            parts.release_port(proc)
        raise
    processes.write_state(proc, version=version)


def ensure_running(parts: DatabaseParts) -> list[Happening]:
    """Start every process of the spec that is not running; a restart is a warning in the timeline."""
    views, _ = observe_views(parts, parts.processes)
    sentinel_port = parts.sentinel_master_port()
    plan: dict[str, int | None] = {}
    for shard in sorted({p.shard for p in parts.processes}):
        names = {p.name for p in parts.processes if p.shard == shard}
        shard_views = [v for v in views if v.name in names]
        shard_plan = start_plan(shard_views, sentinel_port)
        if not shard_plan and parts.cluster_mode and parts.spec.shard_count < 3:
            # Redis Cluster needs a majority of 3+ masters to promote a replica: nobody will, so restart
            shard_plan = {v.name: None for v in shard_views if not v.alive}
        plan.update(shard_plan)
    if not plan:
        return []
    happenings = []
    by_name = {p.name: p for p in parts.processes}
    for name, replica_of in sorted(plan.items(), key=lambda item: item[1] is not None):  # a master first
        proc = by_name[name]
        before = processes.read_state(proc)
        version = before.get("version") or parts.version
        if version not in versions.available_versions():
            version = parts.version
        start_process(parts, proc, replica_of, version)
        role = "master" if replica_of is None else f"replica of port {replica_of}"
        if parts.cluster_mode:
            role = "Redis Cluster node (the cluster decides its role)"
        if before:
            data = "with its data files" if proc.has_data() else "with an empty data directory"
            happenings.append(Happening("ProcessRestarted", f"{name} (port {proc.port}) was not running; "
                                        f"restarted as {role}, {data}", warning=True))
        else:
            happenings.append(Happening("ProcessStarted", f"{name} started on port {proc.port} as {role}"))
    return happenings


def retire(parts: DatabaseParts) -> list[Happening]:
    """Stop processes the spec no longer has (replication turned off), never losing the master."""
    if not parts.retired:
        return []
    views, infos = observe_views(parts, parts.processes + parts.retired)
    retired_names = {p.name for p in parts.retired}
    masters = [v for v in views if v.alive and v.role == "master"]
    if any(v.name in retired_names for v in masters) and not any(v.name not in retired_names for v in masters):
        raise TargetError("the master runs on a process that replication=false removes; switch it over first")
    happenings = []
    for proc in parts.retired:
        processes.stop(proc)
        shutil.rmtree(proc.directory, ignore_errors=True)
        if parts.release_port:
            parts.release_port(proc)
        happenings.append(Happening("ProcessRemoved", f"{proc.name} (port {proc.port}) stopped and removed"))
    return happenings


def current_master(parts: DatabaseParts) -> ShardProcess | None:
    views, _ = observe_views(parts, parts.processes)
    leader = leader_of(views, parts.sentinel_master_port())
    if leader is None or leader.role != "master":
        return None
    return next(p for p in parts.processes if p.name == leader.name)
