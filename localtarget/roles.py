"""How a stopped shard process comes back: as master, or as a replica of whom. Pure.

The sentinels are the authority on who is master. The control plane only restarts processes, and
never in a way that makes a second master or lets an empty data directory overwrite data:
- if a live master exists, every restarted process is a replica of it (the sentinels' master first);
- if processes live but none is master, or the sentinels still name a dead master, they are failing
  over: nothing is started until they are done (restarting the old master in the middle of their
  failover makes a replication loop, or makes them abort it);
- only when the whole shard is down (a machine restart, `recover`) does one start as master:
  the sentinels' choice if it has data (or nobody has), else the one with the newest data.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessView:
    name: str
    port: int
    alive: bool
    role: str | None = None  # "master" | "slave" when alive
    has_data: bool = False
    data_mtime: float = 0.0


def leader_of(views: list[ProcessView], sentinel_master_port: int | None) -> ProcessView | None:
    """The process every other one should replicate from, among the live ones (None if none lives)."""
    live = [v for v in views if v.alive]
    if not live:
        return None
    named = next((v for v in live if v.port == sentinel_master_port), None)
    masters = [v for v in live if v.role == "master"]
    if named and named.role == "master":
        return named
    if masters:
        return masters[0]
    return named or live[0]


def recovery_master(views: list[ProcessView], sentinel_master_port: int | None) -> ProcessView:
    """With the whole shard down: the process to start as master."""
    named = next((v for v in views if v.port == sentinel_master_port), None)
    with_data = sorted((v for v in views if v.has_data), key=lambda v: v.data_mtime, reverse=True)
    if named and (named.has_data or not with_data):
        return named
    if with_data:
        return with_data[0]
    return views[0]


def start_plan(views: list[ProcessView], sentinel_master_port: int | None) -> dict[str, int | None]:
    """{name of each stopped process: port to replicate from, or None to start as master}."""
    dead = [v for v in views if not v.alive]
    if not dead:
        return {}
    named = next((v for v in views if v.port == sentinel_master_port), None)
    if named is not None and not named.alive and any(v.alive for v in views):
        return {}  # the sentinels have not switched to a live master yet: let them finish first
    leader = leader_of(views, sentinel_master_port)
    if leader is not None and leader.role == "master":
        return {v.name: leader.port for v in dead}
    if leader is not None:
        return {}  # wait for the sentinels to promote a replica
    master = recovery_master(views, sentinel_master_port)
    return {v.name: (None if v.name == master.name else master.port) for v in dead}
