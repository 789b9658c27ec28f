"""Custom resources served from stored CustomResourceDefinitions, as a real API server does.

Once a CRD is stored, its storage version is served like a built-in kind: REST paths, lists, watch,
server-side apply, the `status` subresource (a write to the object ignores `status`, `/status`
writes only status; `metadata.generation` moves only when the spec does), finalizers, discovery
(`kubectl get rec` by short name) and Table rows from `additionalPrinterColumns`.

Simplifications: only the storage version is served (objects are not converted between versions),
and the CRD's openAPIV3Schema is not enforced (the control plane's validator is what the tests
exercise; a real server would also refuse a wrongly typed field with 422).
"""
from __future__ import annotations

from . import emulator_discovery as discovery
from .emulator_api import KIND_TO_RESOURCE, RESOURCES, SHORT_NAMES

CRD_RESOURCE = ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions")
_served: dict[str, str] = {}  # CRD name -> resourceVersion registered


def serve_stored_definitions(store) -> None:
    """Register every stored CRD not registered yet (called before each request is routed)."""
    definitions = store.by_resource.get(CRD_RESOURCE, {})
    if all(_served.get(name) == obj["metadata"].get("resourceVersion") for (_, name), obj in definitions.items()):
        return
    for (_, name), crd in list(definitions.items()):
        if _served.get(name) != crd["metadata"].get("resourceVersion"):
            register(crd)
            _served[name] = crd["metadata"].get("resourceVersion")


def register(crd: dict) -> None:
    spec = crd["spec"]
    names = spec["names"]
    version = next((v for v in spec["versions"] if v.get("storage")), spec["versions"][0])
    prefix = f"apis/{spec['group']}/{version['name']}"
    kind, plural = names["kind"], names["plural"]
    has_status = "status" in (version.get("subresources") or {})
    RESOURCES[(prefix, plural)] = (kind, spec.get("scope", "Namespaced") == "Namespaced", has_status)
    KIND_TO_RESOURCE[kind] = (prefix, plural)
    SHORT_NAMES[plural] = list(names.get("shortNames") or [])
    columns = [c for c in version.get("additionalPrinterColumns") or []
               if c["jsonPath"] != ".metadata.creationTimestamp"]
    discovery._COLUMNS[kind] = (["Name", *[c["name"] for c in columns], "Age"],
                                lambda obj, columns=columns: [_cell(obj, c["jsonPath"]) for c in columns])
    discovery.openapi_document.cache_clear()


def _cell(obj: dict, json_path: str):
    value: object = obj
    for key in json_path.strip(".").split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return "" if value is None else value
