"""Redis Cluster as both targets read it: `CLUSTER NODES` and `CLUSTER INFO` parsed into values.

Pure functions, unit-tested without Redis; the callers (localtarget/redis_cluster.py for processes on
this machine, kube/dataplane.py for pods) own the connections and decide what to do next.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# The role words Redis and the services rigger use (label `redis.io/role`, `ROLE` replies).
MASTER = "master"
REPLICA = "replica"


@dataclass
class Node:
    """One line of `CLUSTER NODES`."""
    id: str
    host: str
    port: int
    flags: set[str]
    master_id: str
    slots: list[int] = field(default_factory=list)
    # Open slots as this node itself reports them (only on its own `myself` line): slot -> peer node id.
    migrating: dict[int, str] = field(default_factory=dict)
    importing: dict[int, str] = field(default_factory=dict)

    @property
    def is_master(self) -> bool:
        return MASTER in self.flags

    @property
    def failed(self) -> bool:
        return "fail" in self.flags or "noaddr" in self.flags

    @property
    def is_myself(self) -> bool:
        return "myself" in self.flags


def parse_nodes(text: object) -> list[Node]:
    """`CLUSTER NODES` output -> nodes (slot ranges expanded; `[slot->-id]`/`[slot-<-id]` markers kept apart)."""
    nodes = []
    for line in str(text).strip().splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        address = parts[1].split("@")[0]
        host, _, port = address.rpartition(":")
        slots: list[int] = []
        migrating: dict[int, str] = {}
        importing: dict[int, str] = {}
        for item in parts[8:]:
            if item.startswith("["):
                slot, arrow, peer = _marker(item)
                (migrating if arrow == "->-" else importing)[slot] = peer
                continue
            first, _, last = item.partition("-")
            slots.extend(range(int(first), int(last or first) + 1))
        nodes.append(Node(id=parts[0], host=host.split(",")[0], port=int(port or 0), flags=set(parts[2].split(",")),
                          master_id=parts[3] if parts[3] != "-" else "", slots=slots,
                          migrating=migrating, importing=importing))
    return nodes


def _marker(item: str) -> tuple[int, str, str]:
    """`[93->-<id>]` (migrating to id) or `[93-<-<id>]` (importing from id) -> (93, arrow, id)."""
    body = item.strip("[]")
    arrow = "->-" if "->-" in body else "-<-"
    slot, _, peer = body.partition(arrow)
    return int(slot), arrow, peer


def myself(nodes: list[Node]) -> Node | None:
    """The node that answered `CLUSTER NODES`."""
    return next((node for node in nodes if node.is_myself), None)


def parse_info(raw: object) -> dict[str, str]:
    """`CLUSTER INFO` as {field: value}; redis-py may already hand back a dict."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return dict(line.strip().split(":", 1) for line in str(raw).splitlines() if ":" in line)


def settled(info: dict[str, str], size: int) -> bool:
    """The cluster serves every slot and this node knows all `size` members."""
    return info.get("cluster_state") == "ok" and int(info.get("cluster_known_nodes", 0)) == size
