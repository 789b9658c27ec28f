"""Sharded databases (shardCount > 1): Redis Cluster across the shard processes.

Redis Cluster is the failover authority for these (replicas are promoted by the cluster's own
vote); the control plane forms the cluster, attaches replicas, moves slots when `shardCount`
changes (plan: slots.py) and restarts processes, the same way roles.py rules for sentinel mode.
"""
from __future__ import annotations

import time

import redis

from core.drivers import Happening
from core.errors import TargetError
from dataplane.cluster import Node, myself, parse_info, parse_nodes
from dataplane.migration import ReshardProgress as Progress
from dataplane.migration import SlotMover, finish_open_moves, reshard, settle_atomic
from dataplane.slots import even_ranges, plan_moves

from . import processes
from .layout import ShardProcess
from .shards import DatabaseParts

JOIN_TIMEOUT = 20.0


def _conn(proc: ShardProcess, parts: DatabaseParts) -> redis.Redis:
    return parts.client(proc.port, timeout=10)


def cluster_nodes(proc: ShardProcess, parts: DatabaseParts) -> list[Node]:
    return parse_nodes(_conn(proc, parts).execute_command("CLUSTER", "NODES"))


def live(parts: DatabaseParts, members: list[ShardProcess]) -> list[ShardProcess]:
    return [p for p in members if processes.server_info(p, parts.logins(p)) is not None]


def ensure_cluster(parts: DatabaseParts, progress: Progress | None = None) -> list[Happening]:
    """Form the cluster, attach replicas, and move slots until the layout matches `shardCount`."""
    members = live(parts, parts.processes + parts.retired)
    if not members:
        return []
    happenings: list[Happening] = []
    happenings += _join(parts, members)
    view = cluster_nodes(members[0], parts)
    if not any(n.slots for n in view):
        _bootstrap_slots(parts)
        happenings.append(Happening("ClusterFormed", f"Redis Cluster formed over {parts.spec.shard_count} shards"))
        _wait_state_ok(parts, members)
    happenings += _attach_replicas(parts)
    happenings += _reshard(parts, progress)
    return happenings


def _join(parts: DatabaseParts, members: list[ShardProcess]) -> list[Happening]:
    """MEET every node that does not know the others yet, from every member at once: each learns the newcomers
    by its own handshake instead of waiting for gossip to carry them around."""
    anchor = members[0]
    known = {n.port for n in cluster_nodes(anchor, parts) if not n.failed}
    newcomers = [proc for proc in members[1:] if proc.port not in known]
    joined = [proc.name for proc in newcomers]
    for proc in members:
        pipe = _conn(proc, parts).pipeline(transaction=False)
        for new in newcomers:
            if new is not proc:
                pipe.execute_command("CLUSTER", "MEET", "127.0.0.1", parts.cluster_port(new))
        pipe.execute()
    if joined:
        _wait(lambda: all(len([n for n in cluster_nodes(p, parts) if not n.failed]) >= len(members)
                          for p in members), "nodes to learn about each other")
        return [Happening("ClusterJoined", f"{', '.join(joined)} joined the Redis Cluster")]
    return []


def _bootstrap_slots(parts: DatabaseParts) -> None:
    masters = [p for p in parts.processes if p.replica_index == 0]
    for proc, (first, last) in zip(masters, even_ranges(parts.spec.shard_count), strict=True):
        _conn(proc, parts).execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)


def _by_port(parts: DatabaseParts) -> dict[int, ShardProcess]:
    return {p.port: p for p in parts.processes + parts.retired}


def _attach_replicas(parts: DatabaseParts) -> list[Happening]:
    """A process that is a master without slots, in a shard whose master has slots, becomes its replica."""
    members = live(parts, parts.processes)
    view = cluster_nodes(members[0], parts)
    by_port = _by_port(parts)
    shard_master = {by_port[n.port].shard: n for n in view if n.is_master and n.slots and n.port in by_port}
    happenings = []
    for node in view:
        proc = by_port.get(node.port)
        if proc is None or proc not in members or not node.is_master or node.slots:
            continue
        master = shard_master.get(proc.shard)
        if master is None or proc.shard >= parts.spec.shard_count:
            continue
        _wait(lambda p=proc, m=master: any(n.id == m.id for n in cluster_nodes(p, parts)),
              f"{proc.name} to learn about its master")
        _conn(proc, parts).execute_command("CLUSTER", "REPLICATE", master.id)
        happenings.append(Happening("ReplicaAttached", f"{proc.name} replicates shard {proc.shard}"))
    return happenings


def _reshard(parts: DatabaseParts, progress: Progress | None = None) -> list[Happening]:
    """Finish moves a killed worker left open, then move the fewest slots that even the layout out."""
    happenings = _finish_open_moves(parts)
    members = live(parts, parts.processes + parts.retired)

    def every_shard_owned() -> tuple[list[Node], dict[int, Node]] | None:
        view = cluster_nodes(members[0], parts)
        owners = _slot_owners(parts, view)
        return (view, owners) if all(i in owners for i in range(parts.spec.shard_count)) else None

    # A new shard's master may still be on its way into the first member's view (gossip): wait for it.
    view, owners = _wait(every_shard_owned, "every new shard's master to join the cluster")
    if not plan_moves({i: n.slots for i, n in owners.items()}, parts.spec.shard_count):
        return happenings
    # A node that just joined answers CLUSTERDOWN (to MIGRATE's RESTORE too) until it has learnt who serves
    # every slot: wait for it before moving anything.
    _wait_state_ok(parts, live(parts, parts.processes + parts.retired))
    done = reshard(_mover(parts), owners, parts.spec.shard_count, progress)
    return happenings + ([Happening("Resharded", done.says)] if done else [])


def _mover(parts: DatabaseParts) -> SlotMover:
    by_port = _by_port(parts)
    return SlotMover(lambda node: parts.client(node.port, timeout=30), auth=parts.password, auth_user=parts.username,
                     migrate_port=lambda node: parts.cluster_port(by_port[node.port]) if node.port in by_port
                     else node.port)


def _finish_open_moves(parts: DatabaseParts) -> list[Happening]:
    """A worker killed mid-move leaves slots MIGRATING/IMPORTING (or a Valkey job running): finish them."""
    members = live(parts, parts.processes + parts.retired)
    happenings = []
    running = settle_atomic(_conn(p, parts) for p in members)
    if running:
        happenings.append(Happening("ReshardResumed", f"waited for {running} slot migration job(s) the server "
                                                      "kept running after an interrupted reconcile"))
    selves = [me for p in members if (me := myself(cluster_nodes(p, parts))) is not None and me.is_master]
    view = cluster_nodes(members[0], parts)
    finished = finish_open_moves(_mover(parts), selves, view)
    if finished:
        happenings.append(Happening("ReshardResumed", f"{finished} slots left half moved by an interrupted "
                                                      "reconcile were finished"))
    return happenings


def forget(parts: DatabaseParts, gone: list[ShardProcess]) -> None:
    """Make the remaining nodes forget processes that are being removed (they own no slots by now)."""
    members = live(parts, parts.processes)
    if not members:
        return
    view = cluster_nodes(members[0], parts)
    ids = [n.id for n in view if n.port in {p.port for p in gone}]
    for proc in members:
        for node_id in ids:
            try:
                _conn(proc, parts).execute_command("CLUSTER", "FORGET", node_id)
            except redis.ResponseError:
                pass  # already forgotten, or it is this node's master (never, for removed shards)


def slots_of(parts: DatabaseParts, procs: list[ShardProcess]) -> int:
    members = live(parts, parts.processes + parts.retired)
    if not members:
        return 0
    ports = {p.port for p in procs}
    return sum(len(n.slots) for n in cluster_nodes(members[0], parts) if n.port in ports)


def _wait_state_ok(parts: DatabaseParts, members: list[ShardProcess]) -> None:
    _wait(lambda: all(cluster_info(p, parts).get("cluster_state") == "ok" for p in members),
          "the cluster state to be ok")


def _slot_owners(parts: DatabaseParts, view: list[Node]) -> dict[int, Node]:
    """Shard index -> the master that holds (or, for a new shard, is to receive) its slots in `view`: a new
    shard's r=0 process, once `view` shows it as a master."""
    by_port = _by_port(parts)
    owners = {by_port[n.port].shard: n for n in view if n.is_master and n.slots and n.port in by_port}
    for index in range(parts.spec.shard_count):
        if index not in owners:
            proc = next((p for p in parts.processes if p.shard == index and p.replica_index == 0), None)
            node = next((n for n in view if proc and n.port == proc.port and n.is_master), None)
            if node is not None:
                owners[index] = node
    return owners


def _wait(predicate, what: str, timeout: float = JOIN_TIMEOUT):
    """The predicate's first true value, polled until `timeout`; TargetError naming `what` after that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except redis.RedisError:
            pass
        time.sleep(0.02)  # polled, not slept through: a reshard starts as soon as the cluster is ready
    raise TargetError(f"timed out waiting for {what}")


def cluster_info(proc: ShardProcess, parts: DatabaseParts) -> dict[str, str]:
    return parse_info(_conn(proc, parts).execute_command("CLUSTER", "INFO"))
