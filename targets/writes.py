"""What every write path (API, dashboard, YAML, management commands) shares.

Write paths call the services in `clusters/services.py` and `databases/services.py`; those
validate with the one validator, save (bumping `generation` on a spec change), record an event
and request a reconcile after commit. These are the errors and results they speak in.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import SpecError, StaleGeneration
from core.hooks import request_reconcile
from timeline.broadcast import publish_status
from timeline.models import Event
from timeline.record import actor_name, record_event


@dataclass
class WriteResult:
    obj: object
    created: bool = False
    changed: bool = False
    warnings: list[str] = field(default_factory=list)


# --- Mechanics the cluster and database services share -------------------------------------------

def actor_label(actor) -> str:
    """What the timeline shows as the author: a user's username, or a plain string such as "cli"."""
    if isinstance(actor, str):
        return actor or "unknown"
    return actor_name(actor)


def locked(obj):
    """The stored row of `obj`, locked for this transaction (PostgreSQL; SQLite serialises writes anyway)."""
    return type(obj).objects.select_for_update().get(pk=obj.pk)


def check_generation(obj, expected: int | None) -> None:
    if expected is not None and int(expected) != obj.generation:
        raise StaleGeneration(int(expected), obj.generation)


def check_not_deleting(obj) -> None:
    if obj.deletion_requested_at is not None:
        raise SpecError({"name": [f"{obj.kind} {obj.name} is being deleted; it can no longer be changed"]})


def describe_changes(old: dict, new: dict) -> str:
    """A short `field: before -> after` summary of a spec change, for the timeline."""
    def show(value) -> str:
        text = json.dumps(value, sort_keys=True, separators=(",", ":")) if not isinstance(value, str) else value
        return text if len(text) <= 60 else text[:57] + "..."

    parts = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            before = show(old[key]) if key in old else "(unset)"
            after = show(new[key]) if key in new else "(unset)"
            parts.append(f"{key}: {before} -> {after}")
    return "; ".join(parts)


def announce_write(obj, *, actor, reason: str, message: str, warnings: list[str]) -> None:
    """Record the write and any unused-field warnings in the timeline, tell dashboards, ask for a reconcile."""
    who = actor_label(actor)
    record_event(obj, reason, message, actor=who)
    if warnings:
        record_event(obj, "UnusedFields", "; ".join(warnings), type=Event.WARNING, actor=who)
    publish_status(obj)
    request_reconcile(obj)


def replace_spec(obj, new_spec: dict, *, actor, warnings: list[str], reason: str = "SpecChanged") -> WriteResult:
    """Store `new_spec` on `obj` (already validated and locked); an identical spec changes nothing."""
    if new_spec == obj.spec:
        return WriteResult(obj=obj, created=False, changed=False, warnings=warnings)
    message = f"generation {obj.generation + 1}: {describe_changes(obj.spec, new_spec)}"
    obj.spec = new_spec
    obj.generation += 1
    obj.save(update_fields=["spec", "generation", "updated_at"])
    announce_write(obj, actor=actor, reason=reason, message=message, warnings=warnings)
    return WriteResult(obj=obj, created=False, changed=True, warnings=warnings)


def write_spec(obj, *, lock: Callable, new_spec: Callable[[Any], dict], validate: Callable[[Any, dict], Any],
               actor, expected_generation: int | None, reason: str = "SpecChanged",
               version_path: str | None = None, metadata: dict | None = None) -> WriteResult:
    """The shape of every change to a stored spec, for both kinds.

    Lock the row, refuse a stale generation or an object being deleted, build the new spec from the
    locked copy, validate it (errors reported on `version` for an upgrade), store it, and let the
    caller's instance see the result. Everything happens in one transaction: a refusal changes nothing.
    `metadata` holds checked labels/annotations to set (targets/metadata.py; keys left out stay as they are).
    """
    with transaction.atomic():
        current = lock(obj)
        check_generation(current, expected_generation)
        check_not_deleting(current)
        try:
            checked = validate(current, new_spec(current))
        except SpecError as exc:
            if version_path is None:
                raise
            raise as_version_error(exc, version_path) from None
        result = replace_spec(current, checked.spec, actor=actor, warnings=checked.warnings, reason=reason)
        if store_metadata(current, metadata or {}, actor=actor):
            result.changed = True
    refresh_from(obj, result.obj)
    return result


def store_metadata(obj, metadata: dict[str, dict[str, str]], *, actor=None) -> bool:
    """Set the given (checked) labels/annotations on `obj`; True if anything changed.

    On a stored row the change is saved and recorded as an event, not as a new generation: as on
    Kubernetes, metadata is not part of the desired state.
    """
    changed = [part for part in ("labels", "annotations") if part in metadata and metadata[part] != getattr(obj, part)]
    for part in changed:
        setattr(obj, part, metadata[part])
    if changed and obj.pk is not None:
        obj.save(update_fields=[*changed, "updated_at"])
        record_event(obj, "MetadataChanged", f"{' and '.join(changed)} of {obj.kind} {obj.name} changed",
                     actor=actor_label(actor))
    return bool(changed)


def request_deletion(obj, *, actor, delete_data: bool) -> None:
    """Mark `obj` for deletion; the reconciler removes what it created, then the row."""
    if obj.deletion_requested_at is not None and obj.delete_data == delete_data:
        return
    first = obj.deletion_requested_at is None
    obj.deletion_requested_at = obj.deletion_requested_at or timezone.now()
    obj.delete_data = delete_data
    obj.save(update_fields=["deletion_requested_at", "delete_data", "updated_at"])
    data = "its data will be removed" if delete_data else "its data will be kept"
    reason = "DeletionRequested" if first else "DeletionChanged"
    announce_write(obj, actor=actor, reason=reason, message=f"{obj.kind} {obj.name} to be deleted; {data}",
                   warnings=[])


def as_version_error(exc: SpecError, version_path: str) -> SpecError:
    """An upgrade's error, reported on the `version` field the caller sent rather than the spec path."""
    errors = {("version" if path == version_path else path): messages for path, messages in exc.errors.items()}
    return SpecError(errors, exc.warnings)


def refresh_from(stale, fresh) -> None:
    """Let the caller's instance see what a service stored on its locked copy."""
    for name in ("spec", "generation", "deletion_requested_at", "delete_data", "updated_at", "status", "labels",
                 "annotations"):
        setattr(stale, name, getattr(fresh, name))
