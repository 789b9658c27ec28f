"""Turning live pods, StatefulSets and PVCs into status words and conditions (pure functions).

Clusters: PendingCreation (no pod exists yet) -> Initializing (pods exist, not all ready; the
conditions say how many and why) -> Running (every quorum member ready: its readiness probe is a
sentinel PING). Databases use the REDB words: pending, active, active-change-pending,
creation-failed.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.drivers import Condition, Observation
from targets import managed

from .rollout import DONE, Step

FAILING_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CrashLoopBackOff",
                   "CreateContainerConfigError", "RunContainerError"}


@dataclass(frozen=True)
class PodHealth:
    name: str
    ready: bool
    reason: str = ""  # why not ready: ImagePullBackOff, CrashLoopBackOff, Unschedulable, PVCPending, Starting
    message: str = ""


def pod_health(pod: dict, claims: list[dict]) -> PodHealth:
    """Ready or not, and the most telling reason why not."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    if conditions.get("Ready", {}).get("status") == "True":
        return PodHealth(name, True)
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FAILING_REASONS:
            return PodHealth(name, False, waiting["reason"], waiting.get("message", ""))
    pending_claims = [c["metadata"]["name"] for c in claims
                      if c["metadata"]["name"].endswith(f"-{name}") and (c.get("status") or {}).get("phase") != "Bound"]
    if pending_claims:
        return PodHealth(name, False, "PVCPending", f"volume {', '.join(pending_claims)} is not bound")
    scheduled = conditions.get("PodScheduled", {})
    if scheduled.get("status") == "False":
        return PodHealth(name, False, scheduled.get("reason") or "Unschedulable", scheduled.get("message", ""))
    return PodHealth(name, False, "Starting", "containers are starting")


def readiness(pods: list[dict], claims: list[dict], replicas: int) -> tuple[int, list[PodHealth]]:
    """How many of the wanted pods are ready, and the health of those that are not."""
    health = [pod_health(p, claims) for p in pods]
    ready = sum(1 for h in health if h.ready)
    return ready, [h for h in health if not h.ready]


def _not_ready_condition(what: str, ready: int, replicas: int, unhealthy: list[PodHealth], missing: int) -> Condition:
    reasons = Counter(h.reason for h in unhealthy)
    reason = reasons.most_common(1)[0][0] if reasons else "PodsNotCreated"
    details = [f"{h.name}: {h.reason}" + (f" ({h.message})" if h.message else "") for h in unhealthy[:5]]
    if missing:
        details.append(f"{missing} pod(s) not created yet")
    return Condition("Ready", "False", reason, f"{ready}/{replicas} {what} ready; " + "; ".join(details))


def cluster_observation(statefulset: dict | None, pods: list[dict], claims: list[dict], replicas: int,
                        step: Step, *, sentinels_answering: int | None = None) -> Observation:
    """`sentinels_answering`: how many quorum members answered PING through the data plane (None: no data
    plane; the pods' readiness probe, a sentinel PING, stands for it)."""
    details = {"nodes": f"0/{replicas}", "rollout": step.message if step.action != DONE else "done"}
    if statefulset is None or not pods:
        return Observation(managed.PENDING_CREATION, [Condition(
            "Ready", "False", "PodsNotCreated", "waiting for Kubernetes to create the quorum members")],
            details=details, settled=False)
    ready, unhealthy = readiness(pods, claims, replicas)
    details["nodes"] = f"{ready}/{replicas}"
    missing = max(0, replicas - len(pods))
    majority = replicas // 2 + 1
    if ready >= replicas and not missing and step.action == DONE and sentinels_answering is not None \
            and sentinels_answering < majority:
        return Observation(managed.INITIALIZING, [Condition(
            "Ready", "False", "QuorumNotAnswering", f"pods are ready but only {sentinels_answering}/{replicas} "
            "quorum members answer; a majority is needed")], details=details, settled=False)
    if ready >= replicas and not missing and step.action == DONE:
        return Observation(managed.RUNNING, [Condition(
            "Ready", "True", "QuorumReady", f"{ready}/{replicas} quorum members ready")], details=details)
    conditions = [_not_ready_condition("quorum members", ready, replicas, unhealthy, missing)] if unhealthy or missing \
        else [Condition("Ready", "False", "RollingOut", f"{ready}/{replicas} quorum members ready")]
    if step.action != DONE:
        conditions.append(Condition("Rollout", "True", "RollingOut", f"{step.progress} updated: {step.message}"))
    return Observation(managed.INITIALIZING, conditions, details=details, settled=False)


def database_observation(statefulset: dict | None, pods: list[dict], claims: list[dict], replicas: int,
                         step: Step, *, ever_active: bool, masters: list[str], extra: list[Condition],
                         details: dict) -> Observation:
    details = {**details, "shards": f"0/{replicas}", "rollout": step.message if step.action != DONE else "done",
               "master": ", ".join(masters)}
    converging = managed.DB_CHANGE_PENDING if ever_active else managed.DB_PENDING
    if statefulset is None or not pods:
        return Observation(converging, [Condition("Ready", "False", "PodsNotCreated",
                                                  "waiting for Kubernetes to create the shard pods")],
                           details=details, settled=False)
    ready, unhealthy = readiness(pods, claims, replicas)
    details["shards"] = f"{ready}/{replicas}"
    missing = max(0, replicas - len(pods))
    if ready >= replicas and not missing and step.action == DONE and masters:
        return Observation(managed.DB_ACTIVE, [Condition("Ready", "True", "ShardsReady",
                                                         f"{ready}/{replicas} shard processes ready"), *extra],
                           details=details)
    conditions = [_not_ready_condition("shard processes", ready, replicas, unhealthy, missing)] \
        if unhealthy or missing else [Condition("Ready", "False", "RollingOut", f"{ready}/{replicas} ready")]
    if step.action != DONE:
        conditions.append(Condition("Rollout", "True", "RollingOut", f"{step.progress} updated: {step.message}"))
    failing = any(h.reason in FAILING_REASONS for h in unhealthy)
    state = managed.DB_CREATION_FAILED if failing and not ever_active else converging
    return Observation(state, [*conditions, *extra], details=details, settled=False)
