"""Carrying out rolling upgrades and planned switchovers on real processes (plan: rollout.py).

A switchover drains the old master in HAProxy first, waits until the replica has every write,
then asks the sentinels (SENTINEL FAILOVER) to move the role: clients see only connection errors
they can retry, never a write refused or lost.
"""
from __future__ import annotations

import time

import redis

from core.drivers import Happening
from core.engines import describe
from core.errors import TargetError

from . import processes, sentinel
from .layout import ShardProcess
from .rollout import RESTART_MASTER, RESTART_REPLICA, SWITCHOVER, WAIT_SYNC, Member, next_step
from .shards import DatabaseParts, observe_views, start_process

SYNC_TIMEOUT = 60.0
SWITCHOVER_TIMEOUT = 30.0


def _info(proc: ShardProcess, parts: DatabaseParts) -> dict:
    return processes.server_info(proc, parts.logins(proc)) or {}


def replica_in_sync(info: dict) -> bool:
    return info.get("role") == "slave" and info.get("master_link_status") == "up" \
        and not int(info.get("master_sync_in_progress", 0))


def wait_in_sync(parts: DatabaseParts, proc: ShardProcess, timeout: float = SYNC_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica_in_sync(_info(proc, parts)):
            return
        time.sleep(0.1)
    raise TargetError(f"{proc.name} did not get in sync with its master within {timeout:.0f}s; upgrade stopped")


def _members(parts: DatabaseParts, shard: int) -> tuple[list[Member], dict[str, ShardProcess]]:
    group = [p for p in parts.processes if p.shard == shard]
    views, infos = observe_views(parts, group)
    by_name = {p.name: p for p in group}
    down = [v.name for v in views if v.name not in infos]
    if down:
        raise TargetError(f"upgrade waits: {', '.join(down)} not answering")
    sentinel_port = parts.sentinel_master_port()
    members = []
    for view in views:
        info = infos[view.name]
        # An old master the sentinels have replaced but not yet reconfigured is a replica that lags.
        stale = info.get("role") == "master" and sentinel_port not in (None, view.port)
        members.append(Member(name=view.name, role="slave" if stale else info.get("role", ""),
                              version=processes.read_state(by_name[view.name]).get("version", ""),
                              in_sync=not stale and (info.get("role") == "master" or replica_in_sync(info))))
    return members, by_name


def roll(parts: DatabaseParts) -> list[Happening]:
    """Bring every process to `parts.version`, shard by shard, one step at a time.

    Raises TargetError on a failed step: the upgrade stops there and the status says why.
    """
    if all(processes.read_state(p).get("version") == parts.version for p in parts.processes):
        return []
    happenings: list[Happening] = []
    for shard in sorted({p.shard for p in parts.processes}):
        happenings += _roll_shard(parts, shard)
    return happenings


def _roll_shard(parts: DatabaseParts, shard: int) -> list[Happening]:
    happenings: list[Happening] = []
    for _ in range(3 * parts.spec.processes_per_shard + 3):
        members, by_name = _members(parts, shard)
        step = next_step(members, parts.version)
        if step is None:
            return happenings
        proc = by_name[step.name]
        master = next((by_name[m.name] for m in members if m.role == "master"), None)
        if step.action == WAIT_SYNC:
            wait_in_sync(parts, proc)
        elif step.action == RESTART_REPLICA:
            if master is None:
                raise TargetError("upgrade waits: no master to replicate from")
            processes.stop(proc)
            start_process(parts, proc, master.port, parts.version)
            wait_in_sync(parts, proc)
            happenings.append(Happening("UpgradeStep", f"{proc.name} restarted on {describe(parts.version)} "
                                        "and back in sync"))
        elif step.action == SWITCHOVER:
            new_master = switchover(parts, proc)
            happenings.append(Happening("Switchover", f"planned switchover: {new_master.name} is master, "
                                        f"{proc.name} steps down for its upgrade"))
        elif step.action == RESTART_MASTER:
            processes.stop(proc)
            start_process(parts, proc, None, parts.version)
            happenings.append(Happening("UpgradeStep", f"{proc.name} restarted on {describe(parts.version)} "
                                        "(no replica: clients saw a short outage)", warning=True))
    raise TargetError(f"the rolling upgrade of shard {shard} did not converge; stopped")


def switchover(parts: DatabaseParts, old_master: ShardProcess) -> ShardProcess:
    """Move the master role away from `old_master` (sentinels, or Redis Cluster); returns the new master."""
    if not parts.spec.replication:
        raise TargetError("a switchover needs replication")
    replicas = [p for p in parts.processes if p is not old_master and p.shard == old_master.shard
                and replica_in_sync(_info(p, parts))]
    if not replicas:
        raise TargetError("no replica in sync to switch over to")
    if parts.cluster_mode:
        return _cluster_failover(parts, replicas[0])
    parts.endpoint.drain(old_master.name)
    try:
        _wait_caught_up(parts, old_master, replicas)
        _ask_sentinels(parts)
        new_master = _wait_new_master(parts, old_master)
        _follow(parts, old_master, new_master)
        return new_master
    finally:
        parts.endpoint.undrain(old_master.name)


def _wait_caught_up(parts: DatabaseParts, master: ShardProcess, replicas: list[ShardProcess]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        offset = int(_info(master, parts).get("master_repl_offset", -1))
        if any(int(_info(r, parts).get("slave_repl_offset", -2)) >= offset for r in replicas):
            return
        time.sleep(0.05)
    raise TargetError("no replica caught up with the master within 10s; switchover not started")


def _follow(parts: DatabaseParts, old_master: ShardProcess, new_master: ShardProcess) -> None:
    """Point the old master at the sentinels' new master now, as they would themselves some seconds later:
    until then it still says role:master, and the endpoint must never see two masters."""
    try:
        conn = parts.client(old_master.port, timeout=2)
        if conn.info("replication").get("role") == "master":
            conn.execute_command("REPLICAOF", "127.0.0.1", str(parts.replication_port(new_master.port)))
    except redis.ConnectionError:
        return  # it is down: it comes back as a replica of the live master (roles.py)
    except redis.RedisError as exc:
        raise TargetError(f"{old_master.name} did not follow the new master {new_master.name}: {exc}") from exc


def _ask_sentinels(parts: DatabaseParts) -> None:
    """SENTINEL FAILOVER, retried while the sentinels have not yet seen a good replica."""
    deadline = time.monotonic() + SWITCHOVER_TIMEOUT
    while True:
        try:
            sentinel.failover(parts.sentinels, parts.monitor)
            return
        except TargetError as exc:
            if time.monotonic() >= deadline or ("NOGOODSLAVE" not in str(exc) and "INPROG" not in str(exc)):
                raise
        time.sleep(0.5)


def _wait_new_master(parts: DatabaseParts, old_master: ShardProcess) -> ShardProcess:
    deadline = time.monotonic() + SWITCHOVER_TIMEOUT
    while time.monotonic() < deadline:
        port = parts.sentinel_master_port()
        if port and port != old_master.port:
            new = next((p for p in parts.processes if p.port == port), None)
            if new is not None:
                try:
                    if parts.client(new.port, timeout=1).info("replication")["role"] == "master":
                        return new
                except redis.RedisError:
                    pass
        time.sleep(0.1)
    raise TargetError(f"the sentinels did not complete the switchover within {SWITCHOVER_TIMEOUT:.0f}s")


def _cluster_failover(parts: DatabaseParts, replica: ShardProcess) -> ShardProcess:
    """CLUSTER FAILOVER on the replica: Redis Cluster pauses the master's clients, waits for the replica
    to have every write, then swaps roles (coordinated and lossless). A manual failover that gets no
    majority expires after 5 s inside Redis, so it is asked again until the switchover deadline."""
    deadline = time.monotonic() + SWITCHOVER_TIMEOUT
    while time.monotonic() < deadline:
        try:
            parts.client(replica.port).execute_command("CLUSTER", "FAILOVER")
        except redis.RedisError as exc:
            raise TargetError(f"{replica.name} refused CLUSTER FAILOVER: {exc}") from exc
        attempt_ends = min(deadline, time.monotonic() + 6)
        while time.monotonic() < attempt_ends:
            if _info(replica, parts).get("role") == "master":
                return replica
            time.sleep(0.1)
    raise TargetError(f"{replica.name} did not take over within {SWITCHOVER_TIMEOUT:.0f}s")
