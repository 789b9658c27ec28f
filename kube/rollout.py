"""Which pod to replace next when pods' rendered config changed: a pure plan, unit-tested without Kubernetes.

Replicas first (highest ordinal first), then the master: switched over to an up-to-date replica
through the sentinels (the one authority that picks masters), and only then replaced. One pod at a
time, and only while every pod is ready; a cluster's quorum members have no master.
"""
from __future__ import annotations

from dataclasses import dataclass

DONE = "done"
WAIT = "wait"
REPLACE = "replace"
FAILOVER = "failover"


@dataclass(frozen=True)
class PodView:
    name: str
    config_hash: str
    ready: bool
    master: bool = False

    @property
    def ordinal(self) -> int:
        return int(self.name.rsplit("-", 1)[1])


@dataclass(frozen=True)
class Step:
    action: str  # done | wait | replace | failover
    pod: str | None
    message: str
    updated: int
    total: int

    @property
    def progress(self) -> str:
        return f"{self.updated}/{self.total}"


def plan(pods: list[PodView], desired_hash: str, replicas: int) -> Step:
    """The next step of a rollout towards `desired_hash` over `replicas` pods."""
    updated = sum(1 for p in pods if p.config_hash == desired_hash)
    stale = sorted((p for p in pods if p.config_hash != desired_hash), key=lambda p: -p.ordinal)
    if not stale:
        return Step(DONE, None, "all pods run the current configuration", updated, replicas)
    not_ready = [p.name for p in pods if not p.ready]
    if not_ready or len(pods) < replicas:
        waiting = ", ".join(not_ready) or f"{replicas - len(pods)} pod(s) to be created"
        return Step(WAIT, None, f"waiting for {waiting} before replacing the next pod", updated, replicas)
    stale_replicas = [p for p in stale if not p.master]
    if stale_replicas:
        pod = stale_replicas[0]
        role = "replica" if any(p.master for p in pods) else "pod"
        return Step(REPLACE, pod.name, f"replacing {role} {pod.name}", updated, replicas)
    master = stale[0]
    if any(p.config_hash == desired_hash and not p.master for p in pods):
        return Step(FAILOVER, master.name, f"switching master {master.name} over to an updated replica",
                    updated, replicas)
    return Step(REPLACE, master.name, f"replacing master {master.name} (no replica: brief unavailability)",
                updated, replicas)
