"""Which live objects of a sharded database are which shard: a pure view of listed pods and StatefulSets.

A sharded database renders a StatefulSet per shard (`<db>-shard-<i>`, kube/render/database.py). While
`shardCount` shrinks, the StatefulSets of the shards going away are no longer rendered but must stay until
their slots have moved off (kube/driver.py drains, then deletes them): they are `retiring`. So is the one
StatefulSet `<db>` of a sharded database created before per-shard StatefulSets: its pods hand their slots
to the new shard StatefulSets the same way, then it goes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ShardPods:
    shards: list[list[dict]]  # per wanted shard, its pods by ordinal (fewer while Kubernetes creates them)
    retiring_sets: list[dict]  # live StatefulSets the spec no longer renders
    retiring: list[dict]  # their pods

    @property
    def wanted(self) -> list[dict]:
        return [pod for group in self.shards for pod in group]


def statefulset_of(pod: dict) -> str:
    """A StatefulSet pod's StatefulSet: its name without the ordinal."""
    return pod["metadata"]["name"].rsplit("-", 1)[0]


def ordinal(pod: dict) -> int:
    return int(pod["metadata"]["name"].rsplit("-", 1)[1])


def group(wanted_sets: list[str], statefulsets: list[dict], pods: list[dict]) -> ShardPods:
    """Pods by wanted StatefulSet (one per shard, in shard order) and what retires. Pods of no live
    StatefulSet (terminating after their StatefulSet was deleted) are in neither."""
    retiring_sets = [s for s in statefulsets if s["metadata"]["name"] not in wanted_sets]
    retiring_names = {s["metadata"]["name"] for s in retiring_sets}
    by_set: dict[str, list[dict]] = {}
    for pod in sorted(pods, key=ordinal):
        by_set.setdefault(statefulset_of(pod), []).append(pod)
    return ShardPods(shards=[by_set.get(name, []) for name in wanted_sets], retiring_sets=retiring_sets,
                     retiring=[p for name in sorted(retiring_names) for p in by_set.get(name, [])])


def claims_of(statefulset: dict, claims: list[dict]) -> list[dict]:
    """The PersistentVolumeClaims a StatefulSet's volumeClaimTemplates made (`<template>-<set>-<ordinal>`)."""
    name = statefulset["metadata"]["name"]
    templates = [t["metadata"]["name"] for t in statefulset["spec"].get("volumeClaimTemplates") or []]
    patterns = [re.compile(rf"^{re.escape(t)}-{re.escape(name)}-\d+$") for t in templates]
    return [c for c in claims if any(p.match(c["metadata"]["name"]) for p in patterns)]
