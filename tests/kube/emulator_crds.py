"""Custom resources served from stored CustomResourceDefinitions, as a real API server does.

Once a CRD is stored, its storage version is served like a built-in kind: REST paths, lists, watch,
server-side apply, the `status` subresource (a write to the object ignores `status`, `/status`
writes only status; `metadata.generation` moves only when the spec does), finalizers, discovery
(`kubectl get rec` by short name) and Table rows from `additionalPrinterColumns`.

Simplifications: only the storage version is served (objects are not converted between versions),
and the CRD's openAPIV3Schema is not enforced (the control plane's validator is what the tests
exercise; a real server would also refuse a wrongly typed field with 422). The resource table is
the emulator's module-level one: the kinds served are those of the store that last handled a request
(one emulator at a time per process, as the tests run them).
"""
from __future__ import annotations

from . import emulator_discovery as discovery
from .emulator_api import KIND_TO_RESOURCE, RESOURCES, SHORT_NAMES

CRD_RESOURCE = ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions")
# What is registered now: (store id, {CRD name: (resourceVersion, (prefix, plural), kind)}).
_served: tuple[int, dict[str, tuple[str, tuple[str, str], str]]] = (0, {})


def serve_stored_definitions(store) -> None:
    """Serve exactly the custom resources `store` defines (called before each request is routed)."""
    global _served
    definitions = {name: crd for (_, name), crd in store.by_resource.get(CRD_RESOURCE, {}).items()}
    owner, registered = _served
    wanted = {name: crd["metadata"].get("resourceVersion") for name, crd in definitions.items()}
    if owner == id(store) and {n: v[0] for n, v in registered.items()} == wanted:
        return
    for _, resource, kind in registered.values():
        RESOURCES.pop(resource, None)
        KIND_TO_RESOURCE.pop(kind, None)
        discovery._COLUMNS.pop(kind, None)
    _served = (id(store), {name: (wanted[name], *register(crd)) for name, crd in definitions.items()})
    discovery.openapi_document.cache_clear()


def register(crd: dict) -> tuple[tuple[str, str], str]:
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
    return (prefix, plural), kind


def _cell(obj: dict, json_path: str):
    value: object = obj
    for key in json_path.strip(".").split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return "" if value is None else value
