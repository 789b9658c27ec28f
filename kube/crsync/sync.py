"""Acting on the sync plan: the services write rows (one validator), the API server holds custom resources.

`sync_resource` brings one custom resource and its row in step, a few plan moves at most. Inbound
moves (a REC/REDB made, changed or deleted with kubectl) go through `clusters/services.py` and
`databases/services.py` like every other write, so a refused spec changes nothing and shows
`status.specStatus: Invalid` with the field message on the custom resource. Outbound moves write
the custom resource with the control plane's field manager, each write conditional on the
resourceVersion that was read: a concurrent kubectl change makes the write fail and the plan is
made again from what is there now.

`inbound=False` is what the reconciler uses after each reconcile (`mirror`): it writes the custom
resource and its status but leaves kubectl's changes to the watcher or to `sync_target`, which
hold no object lock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import Q

from accounts.models import Team
from clusters.kind import CLUSTER
from clusters.services import create_cluster
from core import kinds
from core.errors import TargetError
from databases.kind import DATABASE
from databases.services import create_database
from targets.writes import SpecError, StaleGeneration
from timeline.models import Event
from timeline.record import record_event

from ..client import FIELD_MANAGER, KINDS, Conflict, KubeApi, NotFound
from . import plan as moves
from .resources import (
    FINALIZER,
    GENERATION_ANNOTATION,
    REFUSED,
    TEAM_ANNOTATION,
    author,
    declared_metadata,
    desired,
    refused_status,
    row_view,
    status_of,
    team_name,
    view,
)

log = logging.getLogger(__name__)
MAX_STEPS = 5
INBOUND = (moves.ADOPT, moves.PULL, moves.REQUEST_DELETION)


@dataclass
class Step:
    """What one sync did, for logs, commands and tests."""
    kind: str
    namespace: str
    name: str
    actions: list[str]


# --- one resource ----------------------------------------------------------------------------------

def sync_resource(api: KubeApi, target, kind: kinds.Kind, namespace: str, name: str, *,
                  resource: dict | None = None, row=None, inbound: bool = True, read: bool = True) -> Step:
    """Bring the custom resource `namespace/name` and its row in step. `resource`/`row` may be passed
    when already read (a watch event, a list); otherwise they are read here."""
    step = Step(kind.name, namespace, name, [])
    if read and resource is None:
        resource = api.get(kind.api_kind, namespace, name)
    if row is None:
        row = kind.find(target, namespace, name)
    for _ in range(MAX_STEPS):
        move = moves.plan(view(resource) if resource else None, row_view(row) if row else None)
        if move.action == moves.NOTHING or (move.action in INBOUND and not inbound):
            break
        step.actions.append(move.action)
        try:
            resource, row, again = _act(api, target, kind, move, resource, row)
        except Conflict:  # the custom resource changed while we acted: look again
            resource, row, again = api.get(kind.api_kind, namespace, name), \
                kind.find(target, namespace, name), True
        except StaleGeneration:
            row, again = kind.find(target, namespace, name), True
        if not again:
            break
    if resource is not None and row is not None and not resource["metadata"].get("deletionTimestamp"):
        _mirror_status(api, kind, resource, row)
    return step


def _act(api: KubeApi, target, kind: kinds.Kind, move: moves.Move, resource: dict | None, row):
    """Carry out one move; returns (resource, row, plan again?)."""
    if move.action == moves.ADOPT:
        created, resource = _adopt(api, target, kind, resource)
        if created is None:
            return resource, None, False
        return _push(api, kind, created, resource, observed=_generation(resource)), created, True
    if move.action == moves.PULL:
        pulled, resource = _pull(api, kind, resource, row)
        if pulled is None:
            return resource, row, False
        return _push(api, kind, pulled, resource, observed=_generation(resource)), pulled, True
    if move.action == moves.CONFLICT:
        record_event(row, "CustomResourceConflict",
                     f"generation {_generation(resource)} of the {kind.api_kind} (by {author(resource)}) was not "
                     f"applied: the stored spec changed at the same time (generation {row.generation}); the custom "
                     "resource was set back to the stored spec", type=Event.WARNING, actor=author(resource))
        return _push(api, kind, row, resource, observed=None), row, True
    if move.action in (moves.PUSH, moves.RECORD):
        observed = _generation(resource) if move.action == moves.RECORD and resource else None
        return _push(api, kind, row, resource, observed=observed), row, True
    if move.action == moves.REQUEST_DELETION:
        _request_deletion(api, kind, resource, row)
        # A REC/REDB row stays until its Kubernetes objects are gone; an object that goes at once (an access
        # kind) lets the custom resource go now: plan again, to release it.
        row = kind.find(target, resource["metadata"]["namespace"], resource["metadata"]["name"])
        return resource, row, row is None
    if move.action == moves.RELEASE:
        return _release(api, kind, resource), row, False
    if move.action == moves.DELETE_RESOURCE:
        if row is None and FINALIZER in (resource["metadata"].get("finalizers") or []):
            resource = _release(api, kind, resource)
        if resource is not None:
            api.delete(kind.api_kind, resource["metadata"]["namespace"], resource["metadata"]["name"])
        return resource, row, False
    raise AssertionError(move.action)


def _generation(resource: dict | None) -> int:
    return int(((resource or {}).get("metadata") or {}).get("generation") or 1)


def _adopt(api: KubeApi, target, kind: kinds.Kind, resource: dict) -> tuple[object, dict]:
    """Create the row of a custom resource made with kubectl; no row when refused (the status says why)."""
    create = getattr(kind, "create", None) or _CREATE[kind.name]
    try:
        return create(target, resource).obj, resource
    except _Waiting as exc:
        return None, _write_status(api, kind, resource, refused_status(resource, exc.errors, final=False))
    except SpecError as exc:
        return None, _write_status(api, kind, resource, refused_status(resource, exc.errors, final=True))


def _create_cluster(target, resource: dict):
    meta = resource["metadata"]
    return create_cluster(name=meta["name"], spec=resource.get("spec") or {}, namespace=meta["namespace"],
                          target=target, actor=author(resource), metadata=declared_metadata(resource))


def _create_database(target, resource: dict):
    meta = resource["metadata"]
    spec = resource.get("spec") or {}
    cluster = _cluster_for(target, meta["namespace"], spec)
    team = None
    if team_name(resource):
        team = Team.objects.filter(name=team_name(resource)).first()
        if team is None:
            raise SpecError({f"metadata.annotations.{TEAM_ANNOTATION}": [f"no team named {team_name(resource)}"]})
    return create_database(cluster=cluster, name=meta["name"], spec=spec, team=team, actor=author(resource),
                           metadata=declared_metadata(resource))


# How a custom resource made with kubectl becomes a row: what the create services take differs by kind.
_CREATE = {CLUSTER.name: _create_cluster, DATABASE.name: _create_database}


class _Waiting(SpecError):
    """Refused for now, for a reason that may go away (the REDB's cluster is not there yet)."""


def _cluster_for(target, namespace: str, spec: dict):
    """The REC a REDB names (spec.redisEnterpriseCluster.name), or the only cluster in its namespace."""
    reference = spec.get("redisEnterpriseCluster")
    named = reference.get("name") if isinstance(reference, dict) else None
    candidates = CLUSTER.on_target(target).filter(Q(name=named) if named else Q(), namespace=namespace,
                                                  deletion_requested_at__isnull=True)
    found = list(candidates[:2])
    if named and not found:
        raise _Waiting({"spec.redisEnterpriseCluster.name": [f"no cluster named {named} in namespace {namespace}"]})
    if not found:
        raise _Waiting({"spec.redisEnterpriseCluster": [f"no cluster in namespace {namespace} yet"]})
    if len(found) > 1:
        raise SpecError({"spec.redisEnterpriseCluster": [f"namespace {namespace} has several clusters; name one in "
                                                         "spec.redisEnterpriseCluster.name"]})
    return found[0]


def _pull(api: KubeApi, kind: kinds.Kind, resource: dict, row) -> tuple[object, dict]:
    """Update the row from a changed custom resource; no row when refused (the status says why)."""
    expected = view(resource).synced_generation
    try:
        return kind.update(row, spec=resource.get("spec") or {}, actor=author(resource), expected_generation=expected,
                      name=resource["metadata"]["name"], metadata=declared_metadata(resource)).obj, resource
    except SpecError as exc:
        return None, _write_status(api, kind, resource, refused_status(resource, exc.errors, final=True))


def _request_deletion(api: KubeApi, kind: kinds.Kind, resource: dict, row) -> None:
    try:
        kind.request_deletion(row, actor=author(resource))
    except SpecError as exc:  # a REC with databases: Kubernetes cannot refuse the delete, so it waits and says why
        status = dict(resource.get("status") or {})
        message = "; ".join(" ".join(messages) for messages in exc.errors.values())
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Deleting"]
        conditions.append({"type": "Deleting", "status": "False", "reason": "WaitingForDatabases",
                           "message": message})
        _write_status(api, kind, resource, {**status, "conditions": conditions})


def _push(api: KubeApi, kind, row, resource: dict | None, *, observed: int | None) -> dict:
    """Write the row's spec and bookkeeping to the custom resource (create, or apply over the version read),
    then its status with `observed` as observedGeneration (None: the generation the write produced)."""
    meta = (resource or {}).get("metadata") or {}
    manifest = desired(row, resource_version=meta.get("resourceVersion"), kind=kind)
    unchanged = resource is not None and resource.get("spec") == row.spec \
        and (meta.get("annotations") or {}).get(GENERATION_ANNOTATION) == str(row.generation) \
        and FINALIZER in (meta.get("finalizers") or [])
    if resource is None:
        written = api.request("POST", _path(kind, row), query=[("fieldManager", FIELD_MANAGER)], body=manifest)
    elif unchanged:
        written = resource
    else:
        written = api.request("PATCH", _path(kind, row, row.name), query=[("fieldManager", FIELD_MANAGER),
                                                                     ("force", "true")],
                              body=manifest, content_type="application/apply-patch+yaml")
    generation = _generation(written)
    status = status_of(row, observed if observed is not None else generation, kind)
    return _write_status(api, kind, written, status)


def _release(api: KubeApi, kind: kinds.Kind, resource: dict) -> dict | None:
    """Remove our finalizer (conditional on the version read); Kubernetes then deletes a deleting resource."""
    meta = resource["metadata"]
    finalizers = [f for f in meta.get("finalizers") or [] if f != FINALIZER]
    try:
        return api.merge_patch(kind.api_kind, meta["namespace"], meta["name"],
                               {"metadata": {"finalizers": finalizers or None,
                                             "resourceVersion": meta.get("resourceVersion")}})
    except NotFound:
        return None


def _mirror_status(api: KubeApi, kind: kinds.Kind, resource: dict, row) -> None:
    """The row's status on the custom resource, keeping a refusal of the current generation in view."""
    current = resource.get("status") or {}
    observed = int(current.get("observedGeneration") or 0)
    wanted = status_of(row, observed, kind)
    refusal = [c for c in current.get("conditions") or [] if c.get("type") == REFUSED]
    if refusal and current.get("specStatus") == "Invalid" and observed == _generation(resource):
        wanted["specStatus"] = "Invalid"
        wanted["conditions"] = [*(wanted.get("conditions") or []), *refusal]
    _write_status(api, kind, resource, wanted)


def _write_status(api: KubeApi, kind: kinds.Kind, resource: dict, status: dict) -> dict:
    if _comparable(resource.get("status") or {}) == _comparable(status):
        return resource
    meta = resource["metadata"]
    removed = {key: None for key in (resource.get("status") or {}) if key not in status}
    try:
        return api.merge_patch(kind.api_kind, meta["namespace"], meta["name"], {"status": {**removed, **status}},
                               subresource="status")
    except NotFound:
        return resource


def _comparable(status: dict) -> dict:
    return {k: v for k, v in status.items() if k != "lastReconcileTime"}


def _path(kind, row, name: str | None = None) -> str:
    return KINDS[kind.api_kind].path(row.namespace, name)


# --- a whole target --------------------------------------------------------------------------------

def sync_target(api: KubeApi, target, *, inbound: bool = True) -> list[Step]:
    """Bring every REC/REDB custom resource of a target and every row in step (clusters first)."""
    steps = []
    for kind in kinds.all_kinds():
        steps += sync_listed(api, target, kind, api.list(kind.api_kind), inbound=inbound)
    # A REC deleted with its REDBs (`kubectl delete -f`) waited for them; they are being deleted now.
    parents = {kind.parent for kind in kinds.all_kinds()}
    waited = {step.kind for step in steps if step.kind in parents and moves.REQUEST_DELETION in step.actions}
    for kind in kinds.all_kinds():
        if kind.name in waited:
            steps += sync_listed(api, target, kind, api.list(kind.api_kind), inbound=inbound)
    return [step for step in steps if step.actions]


def sync_listed(api: KubeApi, target, kind: kinds.Kind, resources: list[dict], *, inbound: bool = True,
                namespace: str | None = None) -> list[Step]:
    """Sync a full list of one kind's custom resources with that kind's rows (after a list or a relist);
    with `namespace`, the list and the rows of that namespace only."""
    rows = {(row.namespace, row.name): row for row in kind.on_target(target)
            if namespace is None or row.namespace == namespace}
    steps = []
    seen = set()
    for resource in resources:
        key = (resource["metadata"]["namespace"], resource["metadata"]["name"])
        seen.add(key)
        steps.append(_guarded(api, target, kind, key, resource=resource, row=rows.get(key), inbound=inbound))
    for key, row in rows.items():
        if key not in seen:
            steps.append(_guarded(api, target, kind, key, resource=None, row=row, inbound=inbound, read=False))
    return steps


def _guarded(api, target, kind: kinds.Kind, key, **kwargs) -> Step:
    try:
        return sync_resource(api, target, kind, *key, **kwargs)
    except TargetError as exc:
        log.warning("sync of %s %s/%s failed: %s", kind.api_kind, key[0], key[1], exc)
        return Step(kind.name, key[0], key[1], ["failed"])
