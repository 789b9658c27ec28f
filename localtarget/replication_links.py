"""Which port a replica's link to its master uses: the master's TLS port with `tlsMode: replica_ssl`
(`tls-replication yes`), its plain port otherwise.

A tlsMode change re-points live links (REPLICAOF to the other port of the same master: the replica goes on
with a partial resync, no data copied again, nothing lost) before the database is handed to the other
sentinel group, so that group finds the replicas at the addresses it speaks to. Sentinel mode only: in a
Redis Cluster the cluster links replicas itself.
"""
from __future__ import annotations

import redis

from core.drivers import Happening
from core.errors import TargetError

from . import processes
from .shards import DatabaseParts, observe_views


def align(parts: DatabaseParts) -> list[Happening]:
    """Turn TLS on first where it is wanted (files, TLS port, tls-replication: on every process, master first,
    so a re-pointed replica finds its master's TLS port open), then re-point the replicas whose link uses the
    other port. Turning TLS off only sets tls-replication no here; the TLS port closes later (live_config)
    once no link uses it. A database that never had TLS costs nothing here (its config files say so)."""
    if parts.tls is None and not any(_had_tls(proc) for proc in parts.processes):
        return []
    _, infos = observe_views(parts, parts.processes)
    masters = [p for p in parts.processes if infos.get(p.name, {}).get("role") == "master"]
    order = sorted(parts.processes, key=lambda p: infos.get(p.name, {}).get("role") != "master")
    happenings = []
    for proc in order:
        info = infos.get(proc.name)
        if info is None:
            continue
        conn = processes.client(proc.port, info["_password"], username=info["_username"])
        wanted = parts.tls_settings(proc) if parts.tls is not None else {"tls-replication": "no"}
        try:
            current = conn.config_get("tls-*")
            diff = {key: value for key, value in wanted.items() if str(current.get(key, "")) != value}
            if diff:
                conn.execute_command("CONFIG", "SET", *[word for pair in diff.items() for word in pair])
            relinked = _relink(conn, info, parts, masters)
            if diff or relinked:
                conn.config_rewrite()
        except redis.RedisError as exc:
            raise TargetError(f"{proc.name} refused to move its replication link: {exc}") from exc
        if relinked:
            happenings.append(Happening("ReplicationRelinked", f"{proc.name} replicates over port {relinked} "
                                        f"({'TLS' if parts.replication_tls else 'plain'}); partial resync"))
    return happenings


def _relink(conn: redis.Redis, info: dict, parts: DatabaseParts, masters: list) -> int:
    """REPLICAOF the master's wanted port if the replica's link names its other one; the port, or 0. The master
    is the process the link names, or (its TLS port already given back) the one live master."""
    if info.get("role") != "slave":
        return 0
    linked = int(info.get("master_port", 0))
    master = next((p for p in parts.processes if linked in (p.port, p.tls_port)), None)
    if master is None and len(masters) == 1:
        master = masters[0]
    if master is None:
        return 0
    wanted = parts.replication_port(master.port)
    if linked == wanted:
        return 0
    conn.execute_command("REPLICAOF", "127.0.0.1", str(wanted))
    return wanted


def _had_tls(proc) -> bool:
    """Whether the process's config (as Redis rewrote it) still has a TLS port or TLS replication on."""
    return processes.configured_value(proc, "tls-port") not in (None, "0") or \
        processes.configured_value(proc, "tls-replication") == "yes"
