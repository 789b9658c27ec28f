"""The next step of a rolling upgrade, as a pure function of what is observed.

Replicas first (each restarted on the new binary, then waited on until in sync), then a planned
switchover so a replica on the new version becomes master, then the old master (by then a
replica). A shard without replicas can only be restarted in place. The same order carries an
engine change (Redis 7.0 -> Valkey 9.1): a Valkey replica syncs from a Redis master, never the reverse.
"""
from __future__ import annotations

from dataclasses import dataclass

RESTART_REPLICA = "restart-replica"
WAIT_SYNC = "wait-sync"
SWITCHOVER = "switchover"
RESTART_MASTER = "restart-master"


@dataclass(frozen=True)
class Member:
    name: str
    role: str  # "master" | "slave"
    version: str
    in_sync: bool = True


@dataclass(frozen=True)
class Step:
    action: str
    name: str
    detail: str = ""


def next_step(members: list[Member], wanted: str) -> Step | None:
    """None when every member runs `wanted`."""
    master = next((m for m in members if m.role == "master"), None)
    replicas = [m for m in members if m.role != "master"]
    if all(m.version == wanted for m in members):
        return None
    lagging = [r for r in replicas if not r.in_sync and r.version == wanted]
    if lagging:
        return Step(WAIT_SYNC, lagging[0].name, "wait until the replica is in sync before the next step")
    # A replica still on the old version is restarted even when it lags: it is restarted anyway, and
    # an old Redis may never get in sync with a new master (Redis 7.0 cannot load Valkey's RDB).
    old_replicas = sorted((r for r in replicas if r.version != wanted), key=lambda r: not r.in_sync)
    if old_replicas:
        return Step(RESTART_REPLICA, old_replicas[0].name, f"restart on {wanted}")
    if master is None:
        return None
    if replicas:
        return Step(SWITCHOVER, master.name, f"promote a replica on {wanted}, then restart {master.name}")
    return Step(RESTART_MASTER, master.name, f"restart on {wanted} (no replica: a short outage)")
