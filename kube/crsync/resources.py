"""Reading and building REC/REDB custom resources (pure: dicts in, dicts out).

The custom resource of a stored object is its spec, labels and annotations as stored, plus the
control plane's bookkeeping: the annotation naming the stored generation it was written from and
the finalizer that makes `kubectl delete` wait until the object's Kubernetes objects are gone.
"""
from __future__ import annotations

from core import kinds

from ..client import FIELD_MANAGER
from .plan import ResourceView, RowView

FINALIZER = "redis-controlplane.io/finalizer"
GENERATION_ANNOTATION = "redis-controlplane.io/generation"
# Which team owns a REC/REDB made with kubectl (a team name); without it the object has no team
# and only staff see it in the dashboard.
TEAM_ANNOTATION = "redis-controlplane.io/team"
# Kept by kubectl on what it applies; not part of what a user declared, so not stored.
NOT_STORED = ("kubectl.kubernetes.io/last-applied-configuration",)
REFUSED = "SpecValid"


def view(resource: dict) -> ResourceView:
    meta = resource.get("metadata") or {}
    status = resource.get("status") or {}
    annotations = meta.get("annotations") or {}
    synced = annotations.get(GENERATION_ANNOTATION)
    generation = int(meta.get("generation") or 1)
    observed = int(status.get("observedGeneration") or 0)
    return ResourceView(
        generation=generation,
        spec=resource.get("spec") or {},
        observed_generation=observed,
        synced_generation=int(synced) if synced and synced.isdigit() else None,
        deleting=bool(meta.get("deletionTimestamp")),
        has_finalizer=FINALIZER in (meta.get("finalizers") or []),
        rejected=status.get("specStatus") == "Invalid" and observed == generation
        and any(c.get("type") == REFUSED for c in status.get("conditions") or []),
    )


def row_view(obj) -> RowView:
    """A stored object as the plan sees it (an access object has no deletion in progress: it goes at once)."""
    return RowView(generation=obj.generation, spec=obj.spec,
                   deleting=getattr(obj, "deletion_requested_at", None) is not None)


def desired(obj, *, resource_version: str | None = None, kind=None) -> dict:
    """The custom resource of a stored object, as the control plane applies it (server-side apply). `kind`:
    what kinds.of(obj) would say, given where the object's kind is no managed kind (the access kinds)."""
    kind = kind or kinds.of(obj)
    metadata: dict = {"name": obj.name, "namespace": obj.namespace,
                      "annotations": {**(obj.annotations or {}), GENERATION_ANNOTATION: str(obj.generation)},
                      "finalizers": [FINALIZER]}
    if obj.labels:
        metadata["labels"] = dict(obj.labels)
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"apiVersion": kind.api_versions[0], "kind": kind.api_kind, "metadata": metadata, "spec": obj.spec}


def status_of(obj, observed_generation: int, kind=None) -> dict:
    """The custom resource's status: the stored status, observedGeneration counted in CR generations."""
    status = {k: v for k, v in (obj.status or {}).items() if k not in ("observedGeneration", "everRunning")}
    status["observedGeneration"] = observed_generation
    return {**status, **(kind or kinds.of(obj)).resource_status(obj)}


def refused_status(resource: dict, errors: dict[str, list[str]], *, final: bool) -> dict:
    """Status of a custom resource whose spec was refused: Invalid, with the field messages.

    `final` marks the generation as taken in (not retried until it changes); a refusal that may
    pass later (the REDB's cluster is not there yet) leaves observedGeneration where it was.
    """
    status = dict(resource.get("status") or {})
    message = "; ".join(f"{path}: {' '.join(messages)}" for path, messages in errors.items())
    generation = int((resource.get("metadata") or {}).get("generation") or 1)
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != REFUSED]
    conditions.append({"type": REFUSED, "status": "False", "reason": "Invalid" if final else "Waiting",
                       "message": message})
    status.update(specStatus="Invalid", conditions=conditions)
    if final:
        status["observedGeneration"] = generation
    status.setdefault("state", "Invalid")
    return status


def declared_metadata(resource: dict) -> dict[str, dict[str, str]]:
    """The labels and annotations a user declared on the custom resource (what is stored with the row)."""
    meta = resource.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in NOT_STORED}
    return {"labels": dict(meta.get("labels") or {}), "annotations": annotations}


def team_name(resource: dict) -> str | None:
    return ((resource.get("metadata") or {}).get("annotations") or {}).get(TEAM_ANNOTATION)


def author(resource: dict) -> str:
    """Who last changed the custom resource, for the timeline: its most recent field manager other than
    the control plane (Kubernetes records the client, e.g. `kubectl-client-side-apply`, not the user)."""
    entries = [e for e in (resource.get("metadata") or {}).get("managedFields") or []
               if e.get("manager") != FIELD_MANAGER and e.get("subresource") != "status"]
    if not entries:
        return "kubernetes"
    latest = max(entries, key=lambda e: e.get("time") or "")
    return f"kubernetes:{latest.get('manager') or 'unknown'}"
