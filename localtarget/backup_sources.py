"""Which process to copy each shard's RDB from: an in-sync replica (so the master is not forked), else
the master. Sharded databases: the shards are Redis Cluster's masters, with their slots."""
from __future__ import annotations

from core.drivers import ShardSource
from core.errors import TargetError

from . import processes, redis_cluster
from .shards import DatabaseParts, current_master
from .upgrade import replica_in_sync


def shard_sources(parts: DatabaseParts) -> list[ShardSource]:
    """One source per shard; TargetError when a shard has no live master (nothing consistent to copy)."""
    return _cluster_sources(parts) if parts.cluster_mode else [_single_source(parts)]


def _in_sync(parts: DatabaseParts, proc) -> bool:
    return replica_in_sync(processes.server_info(proc, parts.logins(proc)) or {})


def _single_source(parts: DatabaseParts) -> ShardSource:
    master = current_master(parts)
    if master is None:
        raise TargetError(f"database {parts.name} has no master right now; no backup taken")
    replica = next((p for p in parts.processes if p is not master and _in_sync(parts, p)), None)
    chosen = replica or master
    return ShardSource(shard=0, process=chosen.name, port=chosen.port, role="replica" if replica else "master",
                       slots=tuple(range(16384)))


def _cluster_sources(parts: DatabaseParts) -> list[ShardSource]:
    live = redis_cluster.live(parts, parts.processes)
    if not live:
        raise TargetError(f"database {parts.name}: no shard process answers; no backup taken")
    nodes = redis_cluster.cluster_nodes(live[0], parts)
    by_port = {p.port: p for p in parts.processes}
    masters = sorted((n for n in nodes if n.is_master and n.slots and not n.failed), key=lambda n: min(n.slots))
    if sum(len(n.slots) for n in masters) != 16384:
        raise TargetError(f"database {parts.name}: not every slot has a live master; no backup taken")
    sources = []
    for index, master in enumerate(masters):
        replicas = [by_port[n.port] for n in nodes
                    if n.master_id == master.id and not n.failed and n.port in by_port]
        replica = next((p for p in replicas if _in_sync(parts, p)), None)
        chosen = replica or by_port.get(master.port)
        if chosen is None:
            raise TargetError(f"database {parts.name}: master on port {master.port} is not one of its processes")
        sources.append(ShardSource(shard=index, process=chosen.name, port=chosen.port,
                                   role="replica" if replica else "master", slots=tuple(master.slots)))
    return sources
