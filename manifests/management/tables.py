"""`get` output in the columns `kubectl get rec` / `kubectl get redb` show."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

REC_COLUMNS = ["NAME", "NODES", "VERSION", "STATE", "SPEC STATUS", "AGE"]
REDB_COLUMNS = ["NAME", "VERSION", "PORT", "CLUSTER", "SHARDS", "STATUS", "SPEC STATUS", "AGE"]


def age(since: datetime, now: datetime | None = None) -> str:
    """Elapsed time as kubectl prints it: 45s, 12m, 5h, 3d."""
    seconds = max(int(((now or timezone.now()) - since).total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def cluster_row(cluster) -> list[str]:
    status = cluster.status or {}
    version = status.get("version") or (cluster.spec.get("redisEnterpriseImageSpec") or {}).get("versionTag", "")
    return [cluster.name, str(cluster.spec.get("nodes", "")), str(version), status.get("state", ""),
            status.get("specStatus", ""), age(cluster.created_at)]


def database_row(database) -> list[str]:
    status = database.status or {}
    spec = database.spec
    return [database.name, str(status.get("version") or spec.get("redisVersion", "")),
            str(spec.get("databasePort", "")), database.cluster.name, shards_cell(spec, status),
            status.get("state", ""), status.get("specStatus", ""), age(database.created_at)]


def shards_cell(spec: dict, status: dict) -> str:
    """The shard count, and how far a reshard got while one runs."""
    count = str(spec.get("shardCount", ""))
    moving = status.get("resharding")
    if not isinstance(moving, dict) or not moving.get("slotsTotal"):
        return count
    return (f"{count} (resharding: {moving.get('slotsMoved', 0)}/{moving['slotsTotal']} slots, "
            f"{moving.get('keysMoved', 0)}/{moving.get('keysTotal', 0)} keys)")


# The columns and the row of each kind, by kind name.
TABLES = {"cluster": (REC_COLUMNS, cluster_row), "database": (REDB_COLUMNS, database_row)}


def render_table(columns: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    lines = ["   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [columns, *rows]]
    return "\n".join(lines) + "\n"
