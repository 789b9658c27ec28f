"""Which command forms (or repairs) a sharded database's Redis Cluster next: a pure plan of what each
pod's `CLUSTER NODES` says, unit-tested without Redis; kube/dataplane.py runs the moves.

The pods come grouped by shard (on Kubernetes a StatefulSet per shard): a shard's pods are its master
and its replicas, whichever of them Redis Cluster made master. Role-agnostic, so it stays right after
a failover (a replica became master) and after a pod came back on empty storage (a new node id nobody
knows, while the old id lingers as failed):
1. forget node ids that no pod answers with any more, once they own no slots (a failed master keeps
   its id known until its replica has taken its slots over: forgetting it earlier denies the vote);
2. introduce every pod to the pods it does not know;
3. give each even slot range nobody owns to the first pod of that shard (first formation);
4. make every other master without slots of a shard a replica of the shard's master (the pod owning its
   slots; for a new shard, its first pod). A replica is never re-pointed (it may hold the shard's only
   copy while its failed master waits for Redis Cluster's failover); pods of shards being removed
   (`retiring`) stay members, never re-pointed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dataplane.cluster import Node, myself
from dataplane.slots import SLOTS, even_ranges

FORGET = "forget"
MEET = "meet"
ADD_SLOTS = "add-slots"
REPLICATE = "replicate"


@dataclass(frozen=True)
class Step:
    action: str  # forget | meet | add-slots | replicate
    host: str  # the pod that runs the command
    argument: str | tuple[int, int]  # node id, the host to meet, or a slot range
    says: str


def plan(shards: Sequence[Sequence[str]], views: dict[str, list[Node]], retiring: Sequence[str] = ()) -> list[Step]:
    """Every step that is due now, in order; [] when nothing is left to do. `shards`: each wanted shard's
    pods, its first pod first; `retiring`: pods of shards being drained; `views`: each pod's CLUSTER NODES."""
    hosts = [host for group in shards for host in group] + list(retiring)
    me = {host: myself(views[host]) for host in hosts}
    if any(node is None for node in me.values()):
        return []
    ids = {host: node.id for host, node in me.items()}
    short = {host: host.split(".", 1)[0] for host in hosts}
    steps = []
    for host in hosts:
        for node in views[host]:
            # A node in handshake has a temporary id until it answers; the node a replica follows
            # cannot be forgotten by that replica (it is re-pointed by step 4 first).
            if node.id not in ids.values() and "handshake" not in node.flags and node.id != me[host].master_id \
                    and not node.slots:
                steps.append(Step(FORGET, host, node.id, f"{short[host]} forgets node {node.id[:8]} no pod runs"))
    for host in hosts:
        known = {node.id for node in views[host]}
        steps += [Step(MEET, host, other, f"{short[host]} meets {short[other]}")
                  for other in hosts if ids[other] not in known]
    if steps:
        return steps
    owned = {slot for host in hosts for node in views[host] for slot in node.slots}
    for group, (first, last) in zip(shards, even_ranges(len(shards)), strict=True):
        host = group[0]
        if not any(me[h].slots for h in group) and me[host].is_master and not owned & set(range(first, last + 1)):
            steps.append(Step(ADD_SLOTS, host, (first, last), f"slots {first}-{last} to {short[host]}"))
    if steps or len(owned) < SLOTS:
        return steps
    for group in shards:
        primary = shard_master(group, me)
        if primary is None:
            continue
        for host in group:
            node = me[host]
            if host != primary and node.is_master and not node.slots:  # an existing replica is never re-pointed
                steps.append(Step(REPLICATE, host, ids[primary], f"{short[host]} replicates {short[primary]}"))
    return steps


def shard_master(group: Sequence[str], me: dict[str, Node | None]) -> str | None:
    """The pod of a shard that is (or is to be) its master: the one owning slots; else, for a new shard, its
    first master. None while a pod of the shard still follows a master no pod of it runs (a failed master
    whose replica Redis Cluster is about to promote): nothing may be re-pointed before that."""
    nodes = {h: me[h] for h in group if me[h] is not None}
    owners = [h for h, n in nodes.items() if n.is_master and n.slots]
    if owners:
        return owners[0]
    ids = {n.id for n in nodes.values()}
    if any(n.master_id and n.master_id not in ids for n in nodes.values()):
        return None
    return next((h for h, n in nodes.items() if n.is_master), None)
