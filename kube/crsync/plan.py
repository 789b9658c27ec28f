"""What to do about one REC/REDB: a pure function of its custom resource and its stored row.

Both sides carry a generation. The custom resource remembers the pair it was last in step with:
its own `status.observedGeneration` (the CR generation the control plane has taken in) and the
annotation `redis-controlplane.io/generation` (the stored generation it was written from). A side
whose generation moved past that pair has changed since; equal specs are always in step, which is
how the control plane's own writes coming back through the watch (echoes) are recognised.

Both sides changed since they were last in step is a conflict: the stored spec (already validated
and being reconciled) is written back to the custom resource, and the discarded change is recorded
on the timeline and in a condition of the custom resource — never a silent last writer wins.
"""
from __future__ import annotations

from dataclasses import dataclass

# Moves, one per call; the caller acts and asks again until NOTHING (a few steps at most).
NOTHING = "nothing"
ADOPT = "adopt"  # create the row from a custom resource made with kubectl
PULL = "pull"  # update the row from the custom resource
PUSH = "push"  # write the row's spec (and the bookkeeping) to the custom resource
CONFLICT = "conflict"  # both changed: push the row's spec, record what was discarded
RECORD = "record"  # specs agree: only the bookkeeping (generation pair, finalizer) is behind
REQUEST_DELETION = "request-deletion"  # the custom resource is being deleted: delete the row
RELEASE = "release"  # the row is gone: remove our finalizer so Kubernetes deletes the custom resource
DELETE_RESOURCE = "delete-resource"  # the row is being deleted or gone: delete the custom resource


@dataclass(frozen=True)
class ResourceView:
    """What the plan needs from a custom resource."""
    generation: int
    spec: dict
    observed_generation: int = 0  # status.observedGeneration: the CR generation last taken in
    synced_generation: int | None = None  # the row generation it was last written from (annotation)
    deleting: bool = False
    has_finalizer: bool = False
    rejected: bool = False  # status says Invalid for this very generation


@dataclass(frozen=True)
class RowView:
    """What the plan needs from a stored cluster or database."""
    generation: int
    spec: dict
    deleting: bool = False


@dataclass(frozen=True)
class Move:
    action: str
    reason: str = ""


def plan(resource: ResourceView | None, row: RowView | None) -> Move:
    """The next move to bring a custom resource and its row in step."""
    if resource is None:
        if row is None or row.deleting:
            return Move(NOTHING)
        return Move(PUSH, "no custom resource for this object yet")
    if row is None:
        return _without_row(resource)
    if resource.deleting:
        if not row.deleting:
            return Move(REQUEST_DELETION, "the custom resource is being deleted")
        return Move(NOTHING, "waiting for the object's Kubernetes objects to be removed")
    if row.deleting:
        return Move(DELETE_RESOURCE, "the object is being deleted")
    if resource.synced_generation is None:
        # Never written by the control plane: a custom resource someone made for an existing row.
        return Move(PULL, "custom resource made for an existing object") if resource.spec != row.spec \
            else Move(RECORD, "first sight, specs agree")
    resource_changed = resource.generation > resource.observed_generation
    row_changed = row.generation > resource.synced_generation
    if resource.spec == row.spec:
        if resource_changed or row_changed or not resource.has_finalizer:
            return Move(RECORD, "specs agree")
        return Move(NOTHING)
    if resource_changed and not row_changed:
        return Move(PULL, f"custom resource generation {resource.generation} is new")
    if row_changed and not resource_changed:
        return Move(PUSH, f"stored generation {row.generation} is new")
    if row_changed and resource_changed:
        return Move(CONFLICT, f"custom resource generation {resource.generation} and stored generation "
                              f"{row.generation} both changed since they were last in step")
    return Move(NOTHING, "the custom resource's spec was refused (status Invalid)")


def _without_row(resource: ResourceView) -> Move:
    if resource.deleting:
        return Move(RELEASE, "the object's Kubernetes objects are gone") if resource.has_finalizer \
            else Move(NOTHING)
    if resource.synced_generation is not None:
        return Move(DELETE_RESOURCE, "the object was deleted through the control plane")
    if resource.rejected:
        return Move(NOTHING, "the custom resource's spec was refused (status Invalid)")
    return Move(ADOPT, "a custom resource without a stored object")
