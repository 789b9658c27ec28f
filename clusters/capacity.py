"""How much of a cluster's memory its databases take, and the message when a change does not fit.

Capacity = nodes x node memory (ClusterSpec.capacity_bytes); each database takes its
DatabaseSpec.footprint_bytes (x2 with replication). Used by the write-path validators and by the
stored-spec check the reconciler runs.
"""
from __future__ import annotations

from targets.quantity import format_memory


def database_footprints(cluster, *, exclude_pk: int | None = None) -> list[tuple[int, int]]:
    """(pk, footprint bytes) of each database on the cluster, oldest first."""
    from databases.models import Database
    from databases.spec import DatabaseSpec

    rows = Database.objects.filter(cluster=cluster).order_by("pk").values_list("pk", "name", "spec")
    return [(pk, DatabaseSpec.from_spec(spec, name).footprint_bytes) for pk, name, spec in rows if pk != exclude_pk]


def used_bytes(cluster, *, exclude_pk: int | None = None) -> int:
    return sum(footprint for _, footprint in database_footprints(cluster, exclude_pk=exclude_pk))


def capacity_problem(cluster_name: str, capacity: int, used: int, needed: int, *, replicated: bool = False
                     ) -> str | None:
    """Why `needed` more bytes do not fit next to `used` in `capacity`, or None."""
    if used + needed <= capacity:
        return None
    free = max(capacity - used, 0)
    note = " (x2 with replication)" if replicated else ""
    return (f"needs {format_memory(needed)}{note} but cluster {cluster_name} has only {format_memory(free)} free "
            f"of {format_memory(capacity)}")
