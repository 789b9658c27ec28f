"""Which command forms (or repairs) a sharded database's Redis Cluster next: a pure plan of what each
pod's `CLUSTER NODES` says, unit-tested without Redis; kube/dataplane.py runs the moves.

Role-agnostic, so it stays right after a failover (a replica became master) and after a pod came
back on empty storage (a new node id nobody knows, while the old id lingers as failed):
1. forget node ids that no pod answers with any more;
2. introduce every pod to the pods it does not know;
3. give each even slot range nobody owns to the pod of that ordinal (first formation);
4. make every master without slots a replica of the slot owner with the fewest replicas.
"""
from __future__ import annotations

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


def plan(hosts: list[str], views: dict[str, list[Node]], shard_count: int) -> list[Step]:
    """Every step that is due now, in order; [] when nothing is left to do. `hosts`: pods by ordinal;
    `views`: each pod's parsed CLUSTER NODES."""
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
            if node.id not in ids.values() and "handshake" not in node.flags and node.id != me[host].master_id:
                steps.append(Step(FORGET, host, node.id, f"{short[host]} forgets node {node.id[:8]} no pod runs"))
    for host in hosts:
        known = {node.id for node in views[host]}
        steps += [Step(MEET, host, other, f"{short[host]} meets {short[other]}")
                  for other in hosts if ids[other] not in known]
    if steps:
        return steps
    owned = {slot for host in hosts for node in views[host] for slot in node.slots}
    for host, (first, last) in zip(hosts[:shard_count], even_ranges(shard_count), strict=True):
        if me[host].is_master and not owned & set(range(first, last + 1)):
            steps.append(Step(ADD_SLOTS, host, (first, last), f"slots {first}-{last} to {short[host]}"))
    if steps or len(owned) < SLOTS:
        return steps
    owners = [host for host in hosts if me[host].slots]
    replicas = {host: sum(1 for h in hosts if me[h].master_id == ids[host]) for host in owners}
    for host in hosts:
        if me[host].is_master and not me[host].slots and owners:
            target = min(owners, key=lambda h: replicas[h])
            replicas[target] += 1
            steps.append(Step(REPLICATE, host, ids[target], f"{short[host]} replicates {short[target]}"))
    return steps
