"""How much of a cluster's memory its databases take, and the message when a change does not fit.

Capacity = nodes x node memory (ClusterSpec.capacity_bytes); each database takes its
DatabaseSpec.footprint_bytes (x2 with replication). Used by the write-path validators and by the
stored-spec check the reconciler runs.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from core.quantity import format_memory
from specs.database import DatabaseSpec

_footprints_this_pass: ContextVar[dict[int, list[tuple[int, int]]] | None] = ContextVar("footprints", default=None)


@contextlib.contextmanager
def footprints_read_once() -> Iterator[None]:
    """Within a periodic pass, read each cluster's database footprints once instead of once per database.

    Only the reconciler's stored-spec check runs inside it; write-path validation always reads fresh rows.
    """
    token = _footprints_this_pass.set({})
    try:
        yield
    finally:
        _footprints_this_pass.reset(token)


def database_footprints(cluster, *, exclude_pk: int | None = None) -> list[tuple[int, int]]:
    """(pk, footprint bytes) of each database on the cluster, oldest first."""
    cache = _footprints_this_pass.get()
    footprints = cache.get(cluster.pk) if cache is not None else None
    if footprints is None:
        rows = cluster.databases.order_by("pk").values_list("pk", "name", "spec")
        footprints = [(pk, DatabaseSpec.from_spec(spec, name).footprint_bytes) for pk, name, spec in rows]
        if cache is not None:
            cache[cluster.pk] = footprints
    return [(pk, footprint) for pk, footprint in footprints if pk != exclude_pk]


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
