"""The local target: clusters and databases as real redis-sentinel / redis-server processes here.

A cluster is `nodes` sentinels; a database is one redis-server per shard process behind its own
HAProxy endpoint, watched by the cluster's sentinels. Every call is idempotent: what runs is
adopted (pid file + port + INFO), what is missing is started, what drifted is put back.
"""
from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import redis
from django.conf import settings

from access import internal
from access import services as access_services
from clusters.certificates import cluster_ca
from core.drivers import (
    NOT_SHARDED_IN_PLACE,
    ConnectionInfo,
    Happening,
    Observation,
    Probe,
    ShardSource,
    cluster_mutual_tls_problems,
    common_spec_problems,
    kept_on_failure,
    register_driver,
    sharding_change_problems,
    tls_mode_change_problems,
)
from core.engines import describe
from core.errors import SpecNotRealisable, TargetError
from engine import recovery
from engine.progress import report
from specs.database import DatabaseSpec
from targets.certificates import certificate_bundle, client_certificate_problems, provided_certificate
from targets.private_files import made_private_once

from . import (
    acl,
    backup_sources,
    exporter,
    haproxy,
    layout,
    live_config,
    modules,
    observe,
    processes,
    quorum_members,
    redis_cluster,
    replication_links,
    sentinel,
    shards,
    tls,
    upgrade,
    versions,
)
from .ports import PortRegistry, is_listening, port_range


def tls_problems(spec: DatabaseSpec) -> dict[str, str]:
    """What this target's TLS does not cover: mutual TLS on a Redis Cluster (Redis checks the cluster bus's
    peers against the same CA file as clients, so a client certificate could join the bus)."""
    problems = common_spec_problems(spec, "local", tls_modes=("disabled", "enabled", "replica_ssl"))
    if problems:
        return problems
    if cluster_mutual_tls_problems(spec):
        return cluster_mutual_tls_problems(spec)
    return client_certificate_problems(spec.client_certificates)


def _shard_ports_used(spec: DatabaseSpec) -> int:
    """Ports of the shard range a database holds: one per process, two with TLS (a TLS port each)."""
    return spec.process_count * (2 if spec.tls_mode != "disabled" else 1)


def needs_tls_sentinels(spec: DatabaseSpec) -> bool:
    """A replicated replica_ssl database that is not a Redis Cluster is watched by the cluster's TLS sentinel group."""
    return spec.tls_mode == "replica_ssl" and spec.replication and not spec.is_cluster


def tls_sentinel_room_problem(nodes: int, sentinel_ports: range, remembered: list[int]) -> str:
    """Why a cluster's TLS sentinel group (not made yet) cannot be made: each of its `nodes` members takes two
    ports of the sentinel range (its plain one and its TLS one); '' when the range has room."""
    free = len(sentinel_ports) - sum(port in sentinel_ports for port in remembered)
    if 2 * nodes <= free:
        return ""
    return (f"replica_ssl needs the cluster's TLS sentinel group ({nodes} sentinels, two ports each) but only "
            f"{max(free, 0)} ports of the sentinel range {sentinel_ports.start}-{sentinel_ports.stop - 1} are free; "
            "use tlsMode enabled, or widen the range (CP_SENTINEL_PORT_MIN/MAX)")


def _endpoint_key(database) -> str:
    return f"endpoint/{database.cluster.name}/{database.name}"


@register_driver("local")
class LocalDriver:
    def __init__(self, target):
        self.target = target

    # -- where things live ------------------------------------------------------------------
    @property
    def var_dir(self) -> Path:
        """The data folder, private (0700, files 0600) from the first use in this process on."""
        return made_private_once(Path(self.target.settings.get("var_dir") or settings.VAR_DIR))

    @property
    def root(self) -> Path:
        return layout.target_root(self.var_dir, self.target.name)

    @property
    def ports(self) -> PortRegistry:
        return PortRegistry(self.root)

    def endpoint_port(self, database) -> int:
        """The stable endpoint: `databasePort`, or one remembered for the database when the spec has none."""
        spec = database.typed_spec
        if spec.port is not None:
            return spec.port
        return self.ports.allocate(_endpoint_key(database), "database")

    def sentinels(self, cluster, nodes: int | None = None,
                  group: layout.SentinelGroup = layout.PLAIN_SENTINELS) -> list[layout.SentinelProcess]:
        """The members of one of the cluster's sentinel groups (ports allocated on first use)."""
        count = cluster.typed_spec.nodes if nodes is None else nodes
        ports = [self.ports.allocate(group.key(cluster.name, i), "sentinel") for i in range(count)]
        tls_ports = ([self.ports.allocate(group.tls_key(cluster.name, i), "sentinel") for i in range(count)]
                     if group is layout.TLS_SENTINELS else None)
        return layout.sentinel_processes(layout.cluster_root(self.var_dir, self.target.name, cluster.name), ports,
                                         cluster.admin_password, group, tls_ports)

    def allocated_sentinels(self, cluster, group: layout.SentinelGroup) -> list[layout.SentinelProcess]:
        """The members of a group as the port registry remembers them (allocates nothing; [] if never made)."""
        remembered = self.ports.all()
        prefix = group.prefix(cluster.name)
        indexes = sorted(int(key.rsplit("/", 1)[1]) for key in remembered if key.startswith(prefix))
        root = layout.cluster_root(self.var_dir, self.target.name, cluster.name)
        return [layout.sentinel_process(root, i, remembered[group.key(cluster.name, i)], cluster.admin_password,
                                        group, remembered.get(group.tls_key(cluster.name, i), 0)
                                        if group is layout.TLS_SENTINELS else 0) for i in indexes]

    def sentinel_tls(self, cluster) -> tls.TlsFiles:
        """The TLS sentinel group's certificate (cluster CA), made or renewed like a database's."""
        root = layout.cluster_root(self.var_dir, self.target.name, cluster.name)
        files, _, _ = tls.ensure(layout.sentinel_tls_directory(root), cluster_ca(cluster),
                              common_name=f"{cluster.name}-sentinels", names=["localhost", "127.0.0.1"],
                              window_days=settings.CONTROLPLANE_TLS_RENEW_DAYS)
        return files

    def database_parts(self, database) -> shards.DatabaseParts:
        spec = database.typed_spec
        cluster = database.cluster
        root = layout.database_root(self.var_dir, self.target.name, cluster.name, database.name)
        wanted = set(layout.shard_slots(spec))
        prefix = layout.database_key_prefix(cluster.name, database.name)
        ports = {slot: self.ports.allocate(layout.shard_key(cluster.name, database.name, *slot), "shard")
                 for slot in sorted(wanted)}
        tls_on = spec.tls_mode != "disabled"
        tls_ports = {slot: self.ports.allocate(layout.tls_key(cluster.name, database.name, *slot), "shard")
                     for slot in sorted(wanted)} if tls_on else {}
        tls_stem = tls.current(tls.tls_directory(root)) if tls_on else None
        retired_ports = {layout.slot_of_key(key): port for key, port in self.ports.all().items()
                         if key.startswith(prefix) and layout.slot_of_key(key) not in wanted}
        registry = self.ports

        def release(proc: layout.ShardProcess) -> None:
            registry.release(layout.shard_key(cluster.name, database.name, proc.shard, proc.replica_index))
            registry.release(layout.tls_key(cluster.name, database.name, proc.shard, proc.replica_index))

        login = internal.login(database)
        group = layout.sentinel_group(spec)
        other = layout.PLAIN_SENTINELS if group is layout.TLS_SENTINELS else layout.TLS_SENTINELS
        # The TLS group's ports are taken only for a database it is to watch (the cluster's pass gives them
        # back when none is left); the plain group always exists.
        watched = spec.replication and not spec.is_cluster
        sentinels = (self.sentinels(cluster, group=group) if watched or group is layout.PLAIN_SENTINELS
                     else self.allocated_sentinels(cluster, group))
        return shards.DatabaseParts(
            name=database.name, spec=spec, version=spec.redis_version or versions.newest_version() or "",
            password=login.password, username=login.username, fallback_logins=internal.fallback_logins(database),
            wanted_users=access_services.wanted_users(database),
            processes=layout.shard_processes(root, ports, tls_ports),
            retired=layout.shard_processes(root, retired_ports),
            sentinels=sentinels,
            former_sentinels=self.allocated_sentinels(cluster, other),
            quorum=layout.quorum(cluster.typed_spec.nodes),
            endpoint=haproxy.Endpoint(layout.endpoint_directory(root), self.endpoint_port(database)),
            monitor=layout.monitor_name(database.name, 0),
            release_port=release,
            cluster_mode=spec.is_cluster or any((root / f"shard-{s}-{r}" / "nodes.conf").exists()
                                                     for s, r in wanted),
            modules=tuple(modules.library_paths(spec.module_names)) if spec.module_names else (),
            tls=tls.TlsFiles(tls.tls_directory(root), tls_stem, served=tls.served(tls.tls_directory(root)))
            if tls_stem else None,
        )

    def backup_sources(self, database) -> list[ShardSource]:
        """Where to copy each shard's RDB from (backups/): an in-sync replica, else the master."""
        return backup_sources.shard_sources(self.database_parts(database))

    def data_address(self, database) -> tuple[str, int]:
        """The endpoint (HAProxy to the current master; a node of a sharded database). A TLS database's endpoint
        speaks TLS only: its current master's plain port instead (loopback only, with the password), the one
        the control plane's own checks, the replicas and the sentinels use."""
        if database.typed_spec.tls_mode != "disabled":
            master = shards.current_master(self.database_parts(database))
            if master is None:
                raise TargetError(f"database {database.name} has no master right now")
            return "127.0.0.1", master.port
        info = self.connection_info(database)
        return info.host, info.port

    def secret_values(self, database, name: str) -> None:
        """This target keeps no secrets: the names refer to the control plane's stored ones (backups/models.py)."""
        return None

    # -- the write path's questions ---------------------------------------------------------
    def redis_versions(self) -> list[str]:
        return list(versions.available_versions())

    def connection_info(self, database) -> ConnectionInfo:
        """Where clients connect; never allocates (a port is assigned when the spec is written or applied)."""
        port = database.typed_spec.port or self.ports.get(_endpoint_key(database))
        if port is None:
            raise TargetError(f"database {database.name} has no endpoint port yet; it gets one when it is applied")
        return ConnectionInfo(host="127.0.0.1", port=port,
                              service_names=[f"{database.name}@127.0.0.1"],
                              hints=["the endpoint always reaches the current master (HAProxy on this machine)"],
                              control_tls=self._control_tls(database))

    def _control_tls(self, database) -> tuple[str, str, str] | None:
        """The files the control plane connects to a TLS database's endpoint with (None: plain, or not made yet)."""
        if database.typed_spec.tls_mode == "disabled":
            return None
        directory = tls.tls_directory(layout.database_root(self.var_dir, self.target.name, database.cluster.name,
                                                           database.name))
        stem = tls.current(directory)
        if stem is None:
            return None
        files = tls.TlsFiles(directory, stem)
        return str(files.ca_file), str(files.cert_file), str(files.key_file)

    def database_spec_problems(self, wanted: DatabaseSpec, current: DatabaseSpec | None,
                               cluster=None) -> dict[str, str]:
        problems = tls_problems(wanted) or tls_mode_change_problems(wanted, current)
        problems.update(modules.problems(wanted.modules, wanted.redis_version or versions.newest_version() or ""))
        problems.update(sharding_change_problems(wanted, current))
        shard_ports = port_range("shard")
        registry = self.ports.all()
        remembered = registry.values()
        # The database's own processes hold ports it keeps; every other allocation is gone from the range.
        free = (len(shard_ports) - sum(port in shard_ports for port in remembered)
                + (_shard_ports_used(current) if current is not None else 0))
        if _shard_ports_used(wanted) > free:
            problems.setdefault("spec.shardCount", (
                f"needs {wanted.process_count} shard processes"
                f"{' (two ports each with TLS)' if wanted.tls_mode != 'disabled' else ''} but only {max(free, 0)} "
                "ports of the shard range "
                f"{shard_ports.start}-{shard_ports.stop - 1} are free on target {self.target.name}"))
        tls_group = layout.TLS_SENTINELS.prefix(cluster.name) if cluster is not None else ""
        if tls_group and needs_tls_sentinels(wanted) and not any(key.startswith(tls_group) for key in registry):
            problem = tls_sentinel_room_problem(cluster.typed_spec.nodes, port_range("sentinel"), list(remembered))
            if problem:
                problems.setdefault("spec.tlsMode", problem)
        new_port = wanted.port in self.database_ports() and (current is None or current.port != wanted.port)
        if new_port and (wanted.port in remembered or is_listening(wanted.port)):
            problems["spec.databasePort"] = f"port {wanted.port} is in use on this machine; choose another"
        return problems

    def database_ports(self) -> range:
        return port_range("database")

    def free_database_port(self, cluster, taken: set[int]) -> int:
        remembered = set(self.ports.all().values())
        for port in port_range("database"):
            if port not in taken and port not in remembered and not is_listening(port):
                return port
        raise TargetError("no free database port left on the local target")

    def batch(self):
        return contextlib.nullcontext()

    def probe(self) -> Probe:
        """This machine is always reachable; its "version" lists the servers it offers, and why one is not."""
        offered = ", ".join(describe(v) for v in versions.available_versions())
        return Probe("; ".join([offered or "no redis-server installed", *versions.notes()]))

    def install_definitions(self) -> list[str]:
        return []  # nothing to install on this machine

    def take_in(self) -> list[str]:
        return []  # nothing is declared on this machine but through the control plane

    def mirror(self, obj) -> None:
        return None  # this machine keeps no copy of specs

    # -- clusters ---------------------------------------------------------------------------
    def apply_cluster(self, cluster) -> Observation:
        spec = cluster.typed_spec
        version = spec.redis_version or versions.newest_version()
        if version is None:
            raise SpecNotRealisable("no redis-server found on this machine (apt-get install redis-server)")
        sentinels = self.sentinels(cluster)
        happenings = self._retire_sentinels(cluster, spec.nodes, layout.PLAIN_SENTINELS)
        for member in sentinels:
            happenings += quorum_members.ensure(member, version, self.ports)
        upgraded = quorum_members.restart_one(sentinels, version)
        quorum = layout.quorum(spec.nodes)
        watched = self._register_databases(cluster, sentinels, quorum, layout.PLAIN_SENTINELS)
        tls_group = None
        if self._wants_tls_sentinels(cluster):
            tls_members, steps, more = self._ensure_tls_sentinels(cluster, version)
            happenings += steps
            upgraded += more
            tls_group = (tls_members, self._register_databases(cluster, tls_members, quorum, layout.TLS_SENTINELS))
        else:
            happenings += self._remove_tls_sentinels(cluster)
        happenings += upgraded
        step = recovery.recovery_step(cluster, self.database_is_back) if spec.cluster_recovery else None
        started = sum(h.reason in ("ProcessStarted", "ProcessRestarted") for h in happenings)
        result = observe.observe_cluster(sentinels, quorum, watched, cluster.status or {}, started=started,
                                         tls_group=tls_group)
        if step is not None:
            happenings += step.happenings
            result.conditions.append(step.condition)
            result.details.update(step.details)
        result.happenings = happenings + result.happenings
        result.details["redisVersion"] = version
        if spec.cluster_recovery or upgraded:
            result.settled = False  # the cleared flag bumped the generation, or more members to upgrade
        return result

    def database_is_back(self, database) -> bool:
        """The database answers AUTH+PING through its endpoint (HAProxy routes to a live master)."""
        try:
            return bool(processes.client(self.connection_info(database).port, database.password, timeout=2).ping())
        except (redis.RedisError, TargetError):
            return False

    def _wants_tls_sentinels(self, cluster) -> bool:
        """A replicated replica_ssl database (not a Redis Cluster) needs the TLS group, and so does one it still
        watches (a database moved away from replica_ssl leaves it once its reconcile has moved it)."""
        for database in cluster.databases.filter(deletion_requested_at__isnull=True):
            spec = database.typed_spec
            if needs_tls_sentinels(spec):
                return True
        members = sentinel.answering(self.allocated_sentinels(cluster, layout.TLS_SENTINELS))
        return any(sentinel.monitored(member) for member in members)

    def _ensure_tls_sentinels(self, cluster, version: str) -> tuple[list[layout.SentinelProcess], list[Happening],
                                                                     list[Happening]]:
        """The TLS group up: its members, what was started or retired, and the restart step of this pass
        (a new version, or a renewed certificate: sentinels load certificates only at start)."""
        files = self.sentinel_tls(cluster)
        members = self.sentinels(cluster, group=layout.TLS_SENTINELS)
        happenings = self._retire_sentinels(cluster, cluster.typed_spec.nodes, layout.TLS_SENTINELS)
        for member in members:
            happenings += quorum_members.ensure(member, version, self.ports, files)
        upgraded = quorum_members.restart_one(members, version, files)
        if all(processes.configured_value(m, "tls-cert-file") == str(files.cert_file) for m in members):
            tls.remove_old(files)
        return members, happenings, upgraded

    def _start_tls_sentinels(self, cluster) -> list[Happening]:
        """The first replica_ssl database of a cluster starts the TLS group (the cluster's pass looks after it
        from then on: upgrades, renewal, node count)."""
        version = cluster.typed_spec.redis_version or versions.newest_version() or ""
        files = self.sentinel_tls(cluster)
        return [happening for member in self.sentinels(cluster, group=layout.TLS_SENTINELS)
                for happening in quorum_members.ensure(member, version, self.ports, files)]

    def _remove_tls_sentinels(self, cluster) -> list[Happening]:
        """No database needs the TLS group any more: its members are stopped and their ports given back."""
        members = self.allocated_sentinels(cluster, layout.TLS_SENTINELS)
        if not members:
            return []
        stopped = [member for member in members if processes.stop(member)]
        shutil.rmtree(layout.cluster_root(self.var_dir, self.target.name, cluster.name) / layout.TLS_SENTINELS.folder,
                      ignore_errors=True)
        self.ports.release(layout.TLS_SENTINELS.prefix(cluster.name))
        self.ports.release(layout.TLS_SENTINELS.tls_prefix(cluster.name))
        return [Happening("ProcessRemoved", f"the TLS sentinel group ({len(stopped)} members) stopped: no "
                          "replica_ssl database left")] if stopped else []

    def _retire_sentinels(self, cluster, nodes: int, group: layout.SentinelGroup) -> list[Happening]:
        extra = [member for member in self.allocated_sentinels(cluster, group)
                 if int(member.directory.name) >= nodes]
        if not extra:
            return []
        happenings = []
        for member in extra:
            processes.stop(member)
            shutil.rmtree(member.directory, ignore_errors=True)
            self.ports.release(group.key(cluster.name, int(member.directory.name)))
            self.ports.release(group.tls_key(cluster.name, int(member.directory.name)))
            happenings.append(Happening("ProcessRemoved", f"{member.name} (port {member.port}) removed from the "
                                                          "quorum"))
        sentinel.reset(self.sentinels(cluster, nodes, group))
        return happenings

    def _register_databases(self, cluster, sentinels, quorum: int, group: layout.SentinelGroup) -> list[str]:
        """Every replicated database the group watches, watched by each of its members (new members too)."""
        watched = []
        for database in cluster.databases.filter(deletion_requested_at__isnull=True):
            spec = database.typed_spec
            if layout.sentinel_group(spec) is not group:
                continue
            if not spec.replication or spec.shard_count != 1 or self.database_parts(database).cluster_mode:
                continue
            name = layout.monitor_name(database.name, 0)
            port = sentinel.master_port(sentinels, name)
            if port is not None:
                login = internal.login(database)
                sentinel.register(sentinels, name, port, quorum, login.password, username=login.username)
                watched.append(name)
        return watched

    def delete_cluster(self, cluster) -> bool:
        root = layout.cluster_root(self.var_dir, self.target.name, cluster.name)
        for group in (layout.PLAIN_SENTINELS, layout.TLS_SENTINELS):
            for member in self.allocated_sentinels(cluster, group):
                processes.stop(member)
            shutil.rmtree(root / group.folder, ignore_errors=True)
        self.ports.release(f"cluster/{cluster.name}/")
        if cluster.delete_data:
            shutil.rmtree(root, ignore_errors=True)
        return True

    # -- databases --------------------------------------------------------------------------
    def apply_database(self, database) -> Observation:
        spec = database.typed_spec
        refused = tls_problems(spec)
        if refused:
            raise SpecNotRealisable("; ".join(refused.values()))
        version = spec.redis_version or versions.newest_version()
        if not version:
            raise SpecNotRealisable("no redis-server found on this machine (apt-get install redis-server)")
        refused = modules.problems(spec.modules, version)
        if refused:
            raise SpecNotRealisable("; ".join(f"{path.removeprefix('spec.')}: {why}" for path, why in refused.items()))
        parts, renewed = self._ensure_tls(database, self.database_parts(database))
        if parts.cluster_mode:
            return self._apply_sharded(database, parts)
        if spec.shard_count != 1:
            raise SpecNotRealisable(f"spec.shardCount: {NOT_SHARDED_IN_PLACE}")
        with kept_on_failure(self._retire_replica(parts) + renewed) as happenings:
            if spec.replication and parts.replication_tls:
                happenings += self._start_tls_sentinels(database.cluster)
            happenings += shards.ensure_running(parts)
            happenings += replication_links.align(parts)
            if spec.replication:
                if sentinel.unregister(parts.former_sentinels, parts.monitor):
                    group = "TLS" if parts.replication_tls else "plain"
                    happenings.append(Happening("SentinelGroupChanged", f"handed to the {group} sentinel group "
                                                f"(tlsMode {spec.tls_mode}); the data stays where it is"))
                master = shards.current_master(parts)
                if master is not None:
                    sentinel.register(parts.sentinels, parts.monitor, parts.replication_port(master.port),
                                      parts.quorum, parts.password, username=parts.username)
            else:
                sentinel.unregister(parts.sentinels, parts.monitor)
                sentinel.unregister(parts.former_sentinels, parts.monitor)
            return self._converge(database, parts, happenings, observe.observe_database)

    def _apply_sharded(self, database, parts: shards.DatabaseParts) -> Observation:
        """Redis Cluster mode: processes, cluster formation, replicas, online resharding, live config."""
        happenings = shards.ensure_running(parts)
        shards_wanted = parts.spec.shard_count

        def progress(slots: int, slots_total: int, keys: int, keys_total: int) -> None:
            report(database, "resharding", {"shards": shards_wanted, "slotsMoved": slots, "slotsTotal": slots_total,
                                            "keysMoved": keys, "keysTotal": keys_total},
                   final=slots in (0, slots_total))

        happenings += redis_cluster.ensure_cluster(parts, progress)
        if parts.retired and redis_cluster.slots_of(parts, parts.retired) == 0:
            redis_cluster.forget(parts, parts.retired)
            happenings += shards.retire(parts)
        return self._converge(database, parts, happenings, observe.observe_sharded)

    def _converge(self, database, parts: shards.DatabaseParts, happenings: list[Happening],
                  observe_parts: Callable[[shards.DatabaseParts, dict], Observation]) -> Observation:
        """What every database shape does last: live settings, the next upgrade step, the endpoint, then
        observe; the happenings of this pass come before what observing adds."""
        happenings += live_config.apply(parts)
        happenings += acl.apply(parts)
        if parts.tls is not None:
            tls.remove_old(parts.tls)  # every live process serves the current pair now
        happenings += upgrade.roll(parts)
        happenings += self._ensure_endpoint(database, parts)
        result = observe_parts(parts, database.status or {})
        result.happenings = happenings + result.happenings
        result.details["metricsEndpoint"] = self._ensure_exporter(database, parts)
        result.details["tlsCertificateExpires"] = (f"{parts.tls.expires:%Y-%m-%dT%H:%M:%SZ}"
                                                   if parts.tls is not None else "")
        return result

    def _ensure_tls(self, database, parts: shards.DatabaseParts) -> tuple[shards.DatabaseParts, list[Happening]]:
        """tlsMode on: the cluster CA's server certificate for the database, made or renewed (within
        CONTROLPLANE_TLS_RENEW_DAYS of expiry); live_config then makes every process load it, no restart.
        tlsMode off: the TLS ports are given back."""
        cluster = database.cluster
        if parts.spec.tls_mode == "disabled":
            self.ports.release(f"tls/{cluster.name}/{database.name}/")
            return parts, []
        root = layout.database_root(self.var_dir, self.target.name, cluster.name, database.name)
        had = parts.tls is not None
        provided = provided_certificate(database)  # TargetError when the named secret cannot serve
        files, made, switched = tls.ensure(tls.tls_directory(root), cluster_ca(cluster), common_name=database.name,
                                           names=["localhost", "127.0.0.1", f"{database.name}.{cluster.name}.local"],
                                           window_days=settings.CONTROLPLANE_TLS_RENEW_DAYS,
                                           client_cas=certificate_bundle(parts.spec.client_certificates),
                                           provided=provided)
        # With mutual TLS the cluster CA is accepted too: the control plane's checks and the exporter show
        # the database's own certificate (only this machine's control plane holds its key).
        happenings = []
        if switched:
            happenings.append(Happening("CertificateFromSecret", (
                f"the servers present the certificate of secret {cluster.typed_spec.proxy_certificate_secret} "
                f"(valid until {files.expires:%Y-%m-%d}); loaded live, no restart") if provided else
                "the servers present a certificate signed by the cluster CA again; loaded live, no restart"))
        if made and had:
            happenings.append(Happening("CertificateRenewed", f"a new server certificate (valid until "
                                        f"{files.expires:%Y-%m-%d}) replaces the old one; loaded live, no restart"))
        elif made:
            happenings.append(Happening("CertificateIssued", f"server certificate signed by the cluster CA, valid "
                                        f"until {files.expires:%Y-%m-%d}"))
        return dataclasses.replace(parts, tls=files), happenings

    def _exporter(self, database, endpoint_port: int, tls_files: tls.TlsFiles | None = None) -> exporter.Exporter:
        root = layout.database_root(self.var_dir, self.target.name, database.cluster.name, database.name)
        port = self.ports.allocate(f"exporter/{database.cluster.name}/{database.name}", "exporter")
        return exporter.Exporter(root / "exporter", port, endpoint_port, tls_files)

    def _ensure_exporter(self, database, parts: shards.DatabaseParts) -> str:
        """The database's Prometheus exporter; its URL, or "" where the Debian package is missing (the
        database itself does not depend on it)."""
        if exporter.binary() is None:
            return ""
        metrics = self._exporter(database, parts.endpoint.port, parts.tls)
        metrics.ensure(parts.password, parts.username)
        return metrics.url

    def _ensure_endpoint(self, database, parts: shards.DatabaseParts) -> list[Happening]:
        started = parts.endpoint.ensure(parts.processes, parts.password, parts.username)
        if started == "started" and database.status.get("everRunning"):
            return [Happening("EndpointRestarted", f"the endpoint on port {parts.endpoint.port} was not running; "
                              "restarted", warning=True)]
        return []

    def _retire_replica(self, parts: shards.DatabaseParts) -> list[Happening]:
        """replication turned off: make sure the master is a process that stays, then stop the rest."""
        if not parts.retired:
            return []
        happenings = []
        everyone = dataclasses.replace(parts, processes=parts.processes + parts.retired,
                                       spec=dataclasses.replace(parts.spec, replication=True))
        master = shards.current_master(everyone)
        if master is not None and master.name in {p.name for p in parts.retired}:
            new_master = upgrade.switchover(everyone, master)
            happenings.append(Happening("Switchover", f"{new_master.name} is master before {master.name} is "
                                        "removed (replication turned off)"))
        sentinel.unregister(parts.sentinels, parts.monitor)
        parts.endpoint.ensure(parts.processes, parts.password, parts.username)
        return happenings + shards.retire(parts)

    def delete_database(self, database) -> bool:
        """Stops only what the registry says was allocated: deleting never allocates a port nor walks the
        spec's shards, so a database whose reconcile could not allocate (or whose spec asks for absurdly
        many shards) is still deleted."""
        cluster = database.cluster
        root = layout.database_root(self.var_dir, self.target.name, cluster.name, database.name)
        prefix = layout.database_key_prefix(cluster.name, database.name)
        endpoint_key = f"endpoint/{cluster.name}/{database.name}"
        remembered = self.ports.all()
        allocated = {layout.slot_of_key(key): port for key, port in remembered.items() if key.startswith(prefix)}
        for group in (layout.PLAIN_SENTINELS, layout.TLS_SENTINELS):
            sentinel.unregister(self.allocated_sentinels(cluster, group), layout.monitor_name(database.name, 0))
        haproxy.Endpoint(layout.endpoint_directory(root), remembered.get(endpoint_key, 0)).stop()
        exporter_key = f"exporter/{cluster.name}/{database.name}"
        exporter.Exporter(root / "exporter", remembered.get(exporter_key, 0)).stop()
        self.ports.release(exporter_key)
        for proc in layout.shard_processes(root, allocated):
            processes.stop(proc)
        self.ports.release(prefix)
        self.ports.release(f"tls/{cluster.name}/{database.name}/")
        self.ports.release(endpoint_key)
        if database.delete_data:
            shutil.rmtree(root, ignore_errors=True)
        return True
