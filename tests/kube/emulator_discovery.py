"""What `kubectl` reads before it acts: discovery, OpenAPI v3 documents, and Table rows for `get`.

- `/version`, `/api` (APIVersions), `/api/v1` and `/apis/<group>/<version>` (APIResourceList with
  verbs and short names), `/apis` (APIGroupList): how `kubectl get sts,svc` resolves names;
- `/openapi/v3` and `/openapi/v3/<api|apis/group>/<version>`: per group-version documents whose
  paths declare `fieldValidation` and `x-kubernetes-group-version-kind`, so `kubectl apply`
  leaves validation to the server (`?fieldValidation=Strict`), with the v1.32 schemas as components;
- `Accept: application/json;as=Table;...`: the columns a real server prints for each kind.
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache

from .emulator_api import RESOURCES, SHORT_NAMES, api_version, group_version
from .emulator_schema import definition_name, openapi_components

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-emulator", "gitCommit": "emulator",
           "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
           "compiler": "gc", "platform": "linux/amd64"}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def prefixes() -> list[str]:
    return sorted({prefix for prefix, _ in RESOURCES})


def api_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_groups() -> dict:
    groups = []
    for prefix in prefixes():
        if prefix == "api/v1":
            continue
        group, version = group_version(prefix)
        entry = {"groupVersion": f"{group}/{version}", "version": version}
        groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(prefix: str) -> dict | None:
    if prefix not in prefixes():
        return None
    resources = []
    for (resource_prefix, plural), (kind, namespaced, has_status) in sorted(RESOURCES.items()):
        if resource_prefix != prefix:
            continue
        resources.append({"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                          "verbs": VERBS, "shortNames": SHORT_NAMES.get(plural, []),
                          "storageVersionHash": hashlib.sha256(plural.encode()).hexdigest()[:12]})
        if has_status:
            resources.append({"name": f"{plural}/status", "singularName": "", "namespaced": namespaced,
                              "kind": kind, "verbs": ["get", "patch", "update"]})
        if kind == "StatefulSet":
            resources.append({"name": f"{plural}/scale", "singularName": "", "namespaced": namespaced,
                              "group": "autoscaling", "version": "v1", "kind": "Scale",
                              "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version(prefix),
            "resources": resources}


# --- OpenAPI v3 --------------------------------------------------------------------------------------
def openapi_index() -> dict:
    return {"paths": {prefix: {"serverRelativeURL": f"/openapi/v3/{prefix}?hash={_hash(prefix)}"}
                      for prefix in prefixes()}}


def _hash(prefix: str) -> str:
    return hashlib.sha256(json.dumps(openapi_document(prefix), sort_keys=True).encode()).hexdigest()[:32].upper()


@cache
def openapi_document(prefix: str) -> dict:
    """The OpenAPI v3 document of one group-version."""
    group, version = group_version(prefix)
    paths: dict[str, dict] = {}
    roots = []
    for (resource_prefix, plural), (kind, namespaced, _) in sorted(RESOURCES.items()):
        if resource_prefix != prefix:
            continue
        gvk = {"group": group, "version": version, "kind": kind}
        schema_name = definition_name(group, version, kind)
        ref = {"$ref": f"#/components/schemas/{schema_name}"} if schema_name else {"type": "object"}
        if schema_name:
            roots.append(schema_name)
        base = f"/{prefix}/namespaces/{{namespace}}/{plural}" if namespaced else f"/{prefix}/{plural}"
        path_params = [{"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}}] \
            if namespaced else []
        body = {"content": {"application/json": {"schema": ref}}}
        answer = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}

        def operation(action: str, op_id: str, params: list, request: dict | None = None, gvk=gvk, answer=answer):
            op = {"operationId": op_id, "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk,
                  "parameters": params, "responses": answer}
            if request:
                op["requestBody"] = request
            return op

        write_params = [{"name": n, "in": "query", "schema": {"type": "string"}}
                        for n in ("dryRun", "fieldManager", "fieldValidation")]
        paths[base] = {
            "parameters": path_params,
            "get": operation("list", f"list{kind}", [{"name": "labelSelector", "in": "query",
                                                       "schema": {"type": "string"}}]),
            "post": operation("post", f"create{kind}", write_params, body),
        }
        name_param = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
        patch_body = {"content": {t: {"schema": {"type": "object"}} for t in (
            "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
            "application/strategic-merge-patch+json")}}
        paths[f"{base}/{{name}}"] = {
            "parameters": path_params + name_param,
            "get": operation("get", f"read{kind}", []),
            "put": operation("put", f"replace{kind}", write_params, body),
            "patch": operation("patch", f"patch{kind}", write_params + [
                {"name": "force", "in": "query", "schema": {"type": "boolean"}}], patch_body),
            "delete": operation("delete", f"delete{kind}", []),
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": openapi_components(roots)}}


# --- Table output for kubectl get ------------------------------------------------------------------
def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def table(kind: str, objects: list[dict], list_version: str, continue_token: str = "") -> dict:
    columns, cells = _COLUMNS.get(kind, _DEFAULT)
    definitions = [{"name": name, "type": "string", "format": "name" if name == "Name" else "",
                    "description": name, "priority": 0} for name in columns]
    rows = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        rows.append({"cells": [meta.get("name", "")] + cells(obj) + [_age(meta.get("creationTimestamp"))],
                     "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}})
    metadata = {"resourceVersion": list_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": definitions, "rows": rows}


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    seconds = int((datetime.now(UTC) - datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * 2:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _pod(pod: dict) -> list:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    ready = sum(1 for s in statuses if s.get("ready"))
    reason = next((s["state"]["waiting"]["reason"] for s in statuses if "waiting" in (s.get("state") or {})), None)
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return [f"{ready}/{total}", reason or (pod.get("status") or {}).get("phase", "Pending"),
            str(sum(s.get("restartCount", 0) for s in statuses))]


def _service(svc: dict) -> list:
    spec = svc.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), "<none>", ports or "<none>"]


def _statefulset(sts: dict) -> list:
    return [f"{(sts.get('status') or {}).get('readyReplicas', 0)}/{(sts.get('spec') or {}).get('replicas', 1)}"]


def _claim(pvc: dict) -> list:
    spec = pvc.get("spec") or {}
    return [(pvc.get("status") or {}).get("phase", "Pending"),
            ((spec.get("resources") or {}).get("requests") or {}).get("storage", ""),
            spec.get("storageClassName", "<unset>")]


_DEFAULT: tuple[list[str], object] = (["Name", "Age"], lambda obj: [])
_COLUMNS = {
    "Pod": (["Name", "Ready", "Status", "Restarts", "Age"], _pod),
    "Service": (["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], _service),
    "StatefulSet": (["Name", "Ready", "Age"], _statefulset),
    "PersistentVolumeClaim": (["Name", "Status", "Capacity", "StorageClass", "Age"], _claim),
    "Namespace": (["Name", "Status", "Age"], lambda ns: [(ns.get("status") or {}).get("phase", "Active")]),
    "Secret": (["Name", "Type", "Data", "Age"], lambda s: [s.get("type", "Opaque"), str(len(s.get("data") or {}))]),
    "ConfigMap": (["Name", "Data", "Age"], lambda c: [str(len(c.get("data") or {}))]),
}
