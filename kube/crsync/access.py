"""Users, roles, role bindings and ACLs written with kubectl (`kubectl apply -f examples/reuser.yaml`), taken
into the control plane through access/services.py (the one validator), one way: Kubernetes to the control
plane. A refused spec changes nothing and shows `status.specStatus: Invalid` with the field message on the
custom resource; a custom resource deleted with kubectl deletes the object it made. Objects made through
the control plane (API, dashboard, `manage.py apply`) are not written out as custom resources."""
from __future__ import annotations

import logging

from access import services
from access.models import AccessObject
from core.errors import SpecError, TargetError
from operatorapi.schema import ACCESS_KINDS

from ..client import KubeApi, NotFound

log = logging.getLogger(__name__)
SOURCE_ANNOTATION = "redis-controlplane.io/source-target"  # made from a custom resource of this target


def take_in_access(api: KubeApi, target) -> list[tuple[str, str, str, str]]:
    """Every access custom resource of `target` in the control plane; (kind, namespace, name, what) per change."""
    done = []
    for custom in ACCESS_KINDS:
        try:
            resources = api.list(custom.kind)
        except (TargetError, NotFound) as exc:  # the CRD is not installed there: nothing to take in
            log.info("no %s on target %s: %s", custom.kind, target.name, exc)
            continue
        seen = set()
        for resource in resources:
            meta = resource["metadata"]
            key = (meta.get("namespace") or "default", meta["name"])
            seen.add(key)
            what = _take_in_one(api, target, custom.kind, resource)
            if what:
                done.append((custom.kind, *key, what))
        for obj in AccessObject.objects.filter(api_kind=custom.kind):
            if obj.annotations.get(SOURCE_ANNOTATION) == target.name and (obj.namespace, obj.name) not in seen:
                services.delete_object(obj, actor="kubectl")
                done.append((custom.kind, obj.namespace, obj.name, "deleted"))
    return done


def _take_in_one(api: KubeApi, target, kind: str, resource: dict) -> str:
    meta = resource["metadata"]
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    try:
        result = services.apply_object(kind, name=meta["name"], namespace=meta.get("namespace"),
                                       spec=resource.get("spec") or {}, actor="kubectl",
                                       labels=meta.get("labels") or {},
                                       annotations={**annotations, SOURCE_ANNOTATION: target.name})
    except SpecError as exc:
        message = "; ".join(f"{path}: {text}" for path, texts in exc.errors.items() for text in texts)
        _status(api, kind, resource, {"specStatus": "Invalid", "message": message[:1000]})
        return "refused"
    _status(api, kind, resource, {"specStatus": "Valid"})
    return "created" if result.created else "changed" if result.changed else ""


def _status(api: KubeApi, kind: str, resource: dict, status: dict) -> None:
    meta = resource["metadata"]
    wanted = {**status, "observedGeneration": meta.get("generation", 0)}
    if {k: (resource.get("status") or {}).get(k) for k in wanted} == wanted:
        return
    if "message" not in status:
        wanted["message"] = None
    try:
        api.merge_patch(kind, meta.get("namespace"), meta["name"], {"status": wanted}, subresource="status")
    except TargetError as exc:
        log.warning("status of %s %s/%s not written: %s", kind, meta.get("namespace"), meta["name"], exc)
