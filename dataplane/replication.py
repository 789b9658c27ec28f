"""When a replica may be promoted: a pure check of the `INFO replication` it and its master report.

A replica answers PING in the middle of a full sync; promoting it then loses every key (the master
becomes its replica and syncs the empty data set). So a switchover (rollout, upgrade, failover
request) first asks every replica that could be picked, and refuses unless each has its link up,
no sync or load in progress, and an offset within `MAX_LAG_BYTES` of the master's. The pod's
readiness probe (kube/render/redis_scripts.py) checks the same link and sync fields.
"""
from __future__ import annotations

# A replica this close to its master's offset has everything but the last moment's writes, which
# a switchover waits for anyway (sentinel FAILOVER and CLUSTER FAILOVER pause the master's clients).
MAX_LAG_BYTES = 1024 * 1024
MAX_SILENCE_SECONDS = 10


def parse_info(raw: object) -> dict[str, str]:
    """`INFO` text (or redis-py's parsed dict) -> {field: value} as strings."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return dict(line.strip().split(":", 1) for line in str(raw).splitlines()
                if ":" in line and not line.startswith("#"))


def promotion_problem(replica: dict[str, str], master_offset: int | None) -> str | None:
    """Why this replica must not be promoted now (None: it may). `replica`: its parsed INFO
    (replication and persistence sections); `master_offset`: the master's `master_repl_offset`,
    None when the master does not answer (then the replica's own view must be clean)."""
    if replica.get("role") != "slave":
        return f"it is not a replica (role {replica.get('role', 'unknown')})"
    if replica.get("loading", "0") != "0":
        return "it is still loading its data set"
    if replica.get("master_link_status") != "up":
        return "its replication link is down"
    if replica.get("master_sync_in_progress", "0") != "0":
        return "a full sync from the master is in progress"
    silence = int(replica.get("master_last_io_seconds_ago", "-1"))
    if silence < 0 or silence > MAX_SILENCE_SECONDS:
        return f"it has not heard from its master for {silence} s"
    if master_offset is not None:
        lag = master_offset - int(replica.get("slave_repl_offset", "0"))
        if lag > MAX_LAG_BYTES:
            return f"it is {lag} bytes behind its master"
    return None
