"""A Kubernetes API server emulator speaking the real REST protocol over HTTP on 127.0.0.1.

kmock's KubernetesEmulator stores objects as plain merged dicts. This one behaves like a v1.32 API
server where the control plane's correctness (and `kubectl`) depends on it:

- core and group paths (`/api/v1/...`, `/apis/<group>/<version>/...`), namespaced and cluster-wide
  lists, label selectors (`a=b`, `a!=b`, `a`, `!a`), `metadata.name`/`metadata.namespace` field
  selectors, paginated lists (`limit`, `continue`, 410 once the list's version is compacted);
- defaulting (emulator_defaults.py) and 422 Invalid for bad names and immutable fields;
- resourceVersion on every write, 409 Conflict on a stale PUT, patch or delete precondition,
  409 AlreadyExists on create;
- server-side apply per field manager with list-map keys and conflicts (emulator_ssa.py); strategic
  merge, JSON merge and JSON patch (emulator_patch.py); unknown fields dropped or refused
  (`fieldValidation`);
- `status` and `scale` subresources; `dryRun=All`;
- deletion with finalizers (`deletionTimestamp` until the last one is removed), owner garbage
  collection (Background, Foreground, Orphan), namespaces Terminating then emptied;
- watch with bookmarks and 410 Gone (emulator_watch.py);
- Pod Security admission at the namespace's level (emulator_admission.py);
- discovery, OpenAPI v3 and Table output for `kubectl` (emulator_discovery.py);
- injectable faults: an HTTP status (500, 409, ...) or a hang, for the next N matching requests;
- a request log, so tests and benchmarks count calls;
- SelfSubjectAccessReview: everything allowed unless a test denies it (`deny`).

Standalone, for people and `kubectl`: `python -m tests.kube.emulator --port 6443 [--run-pods]`.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import importlib
import importlib.util
import json
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from . import emulator_admission as admission
from . import emulator_discovery as discovery
from .emulator_api import KIND_TO_RESOURCE, RESOURCES, ApiError, api_version, group_version, qualified
from .emulator_crds import serve_stored_definitions
from .emulator_defaults import apply_defaults, pod_name_causes, validate
from .emulator_patch import json_patch, merge_patch, strategic_merge_patch
from .emulator_schema import kind_schema, prune_unknown
from .emulator_ssa import FieldManagers
from .emulator_watch import (
    Change,
    ChangeLog,
    bookmark,
    decode_continue,
    encode_continue,
    error_event,
    event,
    snapshot,
    visible,
)

ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
__all__ = ["RESOURCES", "KIND_TO_RESOURCE", "ApiError", "Fault", "RequestRecord", "Store", "KubernetesApiEmulator",
           "PodTrouble", "SimulatedController", "merge_patch", "parse_selector"]


@dataclass
class Fault:
    """Answer the next `count` requests matching `method`/`path_contains` with `status`, or hang first."""
    status: int = 500
    count: int = 1
    method: str | None = None
    path_contains: str = ""
    hang_seconds: float = 0.0
    retry_after: int | None = None  # sent as a Retry-After header (with 429: throttled)

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and (self.method is None or self.method == method) and self.path_contains in path


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_selector(text: str) -> Callable[[dict], bool]:
    """Equality-based label selector as kubectl writes it."""
    tests = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in term:
            key, value = term.split("=", 1)
            key = key.rstrip("=")
            tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif term.startswith("!"):
            tests.append(lambda labels, k=term[1:]: k not in labels)
        else:
            tests.append(lambda labels, k=term: k in labels)
    return lambda labels: all(test(labels) for test in tests)


# Field selectors beyond metadata.name/namespace, per kind (what the API server registers for them).
FIELD_LABELS = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
              "reason", "reportingComponent", "source", "type"),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
    "StatefulSet": ("status.replicas",),
}


def _field_selector(text: str, kind: str = "") -> Callable[[dict], bool]:
    """`metadata.name=x,status.phase!=Running`: the field selectors the API server supports for `kind`."""
    tests = []
    supported = ("metadata.name", "metadata.namespace") + FIELD_LABELS.get(kind, ())
    for term in filter(None, (t.strip() for t in text.split(","))):
        negate = "!=" in term
        path, value = term.split("!=" if negate else "=", 1)
        value = value.lstrip("=")
        if path not in supported:
            raise ApiError(400, "BadRequest", f"field label not supported: {path}")
        parts = path.split(".")
        tests.append(lambda obj, p=parts, v=value, n=negate: (_field_value(obj, p) == v) != n)
    return lambda obj: all(test(obj) for test in tests)


def _field_value(obj: dict, path: list[str]) -> str:
    value = obj
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if path == ["source"] and isinstance(value, dict):  # events: source is "<component>"
        return value.get("component", "")
    return "" if value is None else str(value)


def _kind_schema(prefix: str, kind: str) -> dict | None:
    group, version = group_version(prefix)
    return kind_schema(group, version, kind)


class Store:
    """Objects by (prefix, plural, namespace, name), with resourceVersions, field managers and a change log."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        # (prefix, plural) -> {(namespace, name): object}: lists scan one kind, not the whole store.
        self.by_resource: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
        self.managers: dict[tuple[str, str, str, str], FieldManagers] = {}
        self.log = ChangeLog()
        self.terminating: dict[str, float] = {}  # namespace -> when its deletion began (monotonic)
        self._version = 0
        # Where Service ClusterIPs come from (the pod runner puts them on its bridge); None: 127.2.x.y.
        self.allocate_cluster_ip: Callable[[], str] | None = None

    def next_version(self) -> str:
        self._version += 1
        return str(self._version)

    @property
    def version(self) -> str:
        return str(self._version)

    # --- reads -----------------------------------------------------------------------------------
    def get(self, prefix: str, plural: str, namespace: str, name: str) -> dict | None:
        with self.lock:
            obj = self.objects.get((prefix, plural, namespace, name))
            return copy.deepcopy(obj) if obj else None

    def list(self, prefix: str, plural: str, namespace: str | None = None, selector: str = "") -> list[dict]:
        match = parse_selector(selector)
        with self.lock:
            found = self.by_resource.get((prefix, plural), {})
            return [copy.deepcopy(obj) for (ns, _), obj in sorted(found.items())
                    if (namespace is None or ns == namespace) and match(obj.get("metadata", {}).get("labels") or {})]

    def find(self, kind: str, namespace: str, name: str) -> dict | None:
        prefix, plural = KIND_TO_RESOURCE[kind]
        return self.get(prefix, plural, namespace, name)

    def all_of(self, kind: str, namespace: str | None = None, selector: str = "") -> list[dict]:
        prefix, plural = KIND_TO_RESOURCE[kind]
        return self.list(prefix, plural, namespace, selector)

    def default_storage_class(self) -> str | None:
        for storage_class in self.by_resource.get(KIND_TO_RESOURCE["StorageClass"], {}).values():
            annotations = storage_class["metadata"].get("annotations") or {}
            if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
                return storage_class["metadata"]["name"]
        return None

    # --- writes ----------------------------------------------------------------------------------
    def _stamp(self, key, obj: dict, before: dict | None) -> dict:
        prefix, plural, namespace, name = key
        kind = RESOURCES[(prefix, plural)][0]
        obj["apiVersion"] = api_version(prefix)
        obj["kind"] = kind
        meta = obj.setdefault("metadata", {})
        meta["name"] = name
        if namespace:
            meta["namespace"] = namespace
        apply_defaults(kind, obj, store_default_class=self.default_storage_class())
        if key in self.managers:
            meta["managedFields"] = self.managers[key].managed_fields()
        if before is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = _now()
            meta["generation"] = 1
            if kind == "Service" and obj.get("spec", {}).get("clusterIP") != "None":
                obj.setdefault("spec", {})["clusterIP"] = self.allocate_cluster_ip() if self.allocate_cluster_ip \
                    else f"127.2.{len(self.objects) // 250}.{len(self.objects) % 250}"
            if kind == "Service":
                obj["spec"].setdefault("clusterIPs", [obj["spec"]["clusterIP"]])
        else:
            for keep in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if keep in before.get("metadata", {}):
                    meta[keep] = before["metadata"][keep]
            if _body(obj) != _body(before):
                meta["generation"] = int(before["metadata"].get("generation", 1)) + 1
        if before is not None and _comparable(obj) == _comparable(before):
            meta["resourceVersion"] = before["metadata"]["resourceVersion"]
            return obj
        meta["resourceVersion"] = self.next_version()
        return obj

    def put(self, key, obj: dict) -> dict:
        """Store `obj` as the new state of `key` (used by the simulated controller and handlers).

        An object being deleted whose last finalizer is removed goes away here (with its dependents).
        """
        with self.lock:
            before = self.objects.get(key)
            stored = self._stamp(key, copy.deepcopy(obj), before)
            if before is not None and stored["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]:
                return copy.deepcopy(stored)
            self._keep(key, stored, before)
            if stored["metadata"].get("deletionTimestamp") and not stored["metadata"].get("finalizers"):
                self._remove(key, "Background")
            return copy.deepcopy(stored)

    def _keep(self, key, stored: dict, before: dict | None) -> None:
        self.objects[key] = stored
        self.by_resource.setdefault(key[:2], {})[key[2:]] = stored
        self.log.record(Change(self._version, "ADDED" if before is None else "MODIFIED", key, stored, before))

    def put_kind(self, kind: str, obj: dict) -> dict:
        prefix, plural = KIND_TO_RESOURCE[kind]
        meta = obj["metadata"]
        return self.put((prefix, plural, meta.get("namespace", ""), meta["name"]), obj)

    def delete(self, key, *, orphan: bool = False, propagation: str | None = None,
               grace_seconds: int | None = 0) -> dict | None:
        """Delete like the API server: finalizers hold the object (marked with `deletionTimestamp`),
        then dependents are garbage-collected (`Background`/`Foreground`) or released (`Orphan`).

        A pod bound to a node is deleted gracefully (`grace_seconds`, None: its
        `terminationGracePeriodSeconds`): it stays, Terminating, until its kubelet (the simulated
        controller, or the pod runner) confirms with a delete of grace 0.
        """
        propagation = propagation or ("Orphan" if orphan else "Background")
        with self.lock:
            obj = self.objects.get(key)
            if obj is None:
                return None
            is_namespace = key[:2] == KIND_TO_RESOURCE["Namespace"]
            grace = _pod_grace(obj, grace_seconds) if key[:2] == KIND_TO_RESOURCE["Pod"] else 0
            if obj["metadata"].get("finalizers") or is_namespace or grace:
                if not obj["metadata"].get("deletionTimestamp"):
                    marked = copy.deepcopy(obj)
                    marked["metadata"].update(deletionTimestamp=_now(), deletionGracePeriodSeconds=grace,
                                              resourceVersion=self.next_version())
                    if is_namespace:
                        marked["status"] = {"phase": "Terminating"}
                        self.terminating[key[3]] = time.monotonic()
                    self._keep(key, marked, obj)
                return copy.deepcopy(self.objects[key])
            return self._remove(key, propagation)

    def finalize_namespaces(self, min_age: float = 0.0) -> None:
        """The namespace controller: empty each namespace Terminating for `min_age` seconds, then remove it."""
        with self.lock:
            for name, since in list(self.terminating.items()):
                if time.monotonic() - since < min_age:
                    continue
                inside = [k for k in self.objects if k[2] == name and RESOURCES[k[:2]][1]]
                for key in inside:
                    self.delete(key)
                if not any(k[2] == name and RESOURCES[k[:2]][1] for k in self.objects):
                    del self.terminating[name]
                    self._remove(("api/v1", "namespaces", "", name), "Background")

    def _remove(self, key, propagation: str) -> dict:
        removed = self.objects.pop(key)
        obj = copy.deepcopy(removed)
        self.by_resource.get(key[:2], {}).pop(key[2:], None)
        self.managers.pop(key, None)
        obj["metadata"]["resourceVersion"] = self.next_version()
        self.log.record(Change(self._version, "DELETED", key, copy.deepcopy(obj), removed))
        uid = obj["metadata"]["uid"]
        uids = {o["metadata"]["uid"] for o in self.objects.values()}
        for dependent_key, dependent in list(self.objects.items()):
            refs = dependent["metadata"].get("ownerReferences") or []
            if not any(ref.get("uid") == uid for ref in refs):
                continue
            remaining = [ref for ref in refs if ref.get("uid") != uid]
            if propagation == "Orphan" or any(ref.get("uid") in uids for ref in remaining):
                released = copy.deepcopy(dependent)
                released["metadata"]["ownerReferences"] = remaining
                if not remaining:
                    released["metadata"].pop("ownerReferences")
                self.put(dependent_key, released)
            elif dependent_key in self.objects:
                self.delete(dependent_key)
        return obj

    def delete_kind(self, kind: str, namespace: str, name: str) -> dict | None:
        prefix, plural = KIND_TO_RESOURCE[kind]
        return self.delete((prefix, plural, namespace, name))


def _pod_grace(pod: dict, requested: int | None) -> int:
    """The grace period of a pod's deletion: 0 unless it is bound to a node and still running."""
    if not (pod.get("spec") or {}).get("nodeName") or (pod.get("status") or {}).get("phase") in ("Succeeded",
                                                                                                "Failed"):
        return 0
    if requested is None:
        requested = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
    return max(int(requested), 0)


def _as_scale(obj: dict) -> dict:
    """The `scale` subresource view of a StatefulSet (what `kubectl scale` reads and writes)."""
    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion") if k in meta},
            "spec": {"replicas": obj["spec"].get("replicas", 0)},
            "status": {"replicas": obj.get("status", {}).get("replicas", 0)}}


def _body(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _comparable(obj: dict) -> dict:
    clean = copy.deepcopy(obj)
    clean.get("metadata", {}).pop("resourceVersion", None)
    for entry in clean.get("metadata", {}).get("managedFields") or []:
        entry.pop("time", None)
    return clean


@dataclass
class Request:
    """One API request as the handlers see it; `warnings` become `Warning` headers."""
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes = b""
    content_type: str = ""
    accept: str = ""
    user_agent: str = ""
    warnings: list[str] = field(default_factory=list)

    def param(self, name: str, default: str = "") -> str:
        return (self.query.get(name) or [default])[0]


class KubernetesApiEmulator:
    """The HTTP server; `store` is the cluster state, `faults` the injected failures."""

    def __init__(self) -> None:
        self.store = Store()
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.after_write: list[Callable[[], None]] = []
        # (group, resource, verb) that SelfSubjectAccessReview answers "not allowed"; verb "*" denies all verbs.
        self.denied: set[tuple[str, str, str]] = set()
        self.bookmark_interval = 1.0  # seconds between watch bookmarks (a real server: about a minute)
        self.max_watch_seconds = 1800.0
        # How long a deleted namespace stays Terminating before the namespace controller empties it
        # (a real one takes seconds: it walks discovery and deletes every kind).
        self.namespace_grace = 1.0

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                return

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without this, delayed ACKs add 40 ms each.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                emulator.handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        # A short poll interval: stop() (every test's teardown) waits for at most one poll.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        threading.Thread(target=self._namespace_controller, daemon=True).start()
        return self.url

    def _namespace_controller(self) -> None:
        """Terminating namespaces are emptied and removed shortly after their DELETE, as in a cluster."""
        while not self._closing.wait(0.1):
            self.store.finalize_namespaces(self.namespace_grace)

    def stop(self) -> None:
        self._closing.set()
        with self.store.log.changed:
            self.store.log.changed.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, context: str = "emulator") -> str:
        return yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "emulator-token"}}],
            "contexts": [{"name": context, "context": {"cluster": "emulator", "user": "tester"}}],
        })

    # --- test controls ---------------------------------------------------------------------------
    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def writes(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.is_write]

    # --- HTTP ------------------------------------------------------------------------------------
    def handle(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        method = http.command
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append(RequestRecord(method, parts.path, parts.query))
            fault = next((f for f in self.faults if f.matches(method, parts.path)), None)
            if fault:
                fault.count -= 1
        if fault is not None:
            if fault.hang_seconds:
                time.sleep(fault.hang_seconds)
            reason = {429: "TooManyRequests", 409: "Conflict"}.get(fault.status, "InternalError")
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            self._send(http, fault.status, ApiError(fault.status, reason, "injected fault").status(), headers=headers)
            return
        request = Request(method, parts.path, parse_qs(parts.query), raw, http.headers.get("Content-Type", ""),
                          http.headers.get("Accept", ""), http.headers.get("User-Agent", ""))
        serve_stored_definitions(self.store)
        if method == "GET" and request.param("watch") in ("true", "1"):
            self._watch(http, request)
            return
        try:
            code, body = self.serve(request)
        except ApiError as exc:
            code, body = exc.code, exc.status()
        except Exception as exc:  # an emulator bug: answer like a server would, not with a dropped connection
            code, body = 500, ApiError(500, "InternalError", f"emulator error: {exc!r}").status()
        if method != "GET" and 200 <= code < 300 and request.param("dryRun") != "All":
            for callback in list(self.after_write):
                callback()
        self._send(http, code, body, request.warnings)

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, code: int, body: dict, warnings: list[str] = (),
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            http.send_response(code)
            for name, value in (headers or {}).items():
                http.send_header(name, value)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(data)))
            for warning in warnings:
                http.send_header("Warning", f'299 - "{warning}"')
            http.end_headers()
            http.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def dispatch(self, method: str, path: str, query: dict, raw: bytes, content_type: str) -> tuple[int, dict]:
        """One request without HTTP (kept for callers that drive the emulator directly)."""
        return self.serve(Request(method, path, query, raw, content_type))

    def serve(self, request: Request) -> tuple[int, dict]:
        answer = self._discovery(request)
        if answer is not None:
            return 200, answer
        if request.path == ACCESS_REVIEW_PATH:
            return self._access_review(request.method, self._decode(request.body, request.content_type)
                                       if request.body else {})
        prefix, plural, namespace, name, sub = self._route(request.path)
        kind, namespaced, has_status = RESOURCES[(prefix, plural)]
        method = request.method
        if method == "GET" and name is None:
            return 200, self._list(request, prefix, plural, namespace if namespaced else None)
        key = (prefix, plural, namespace or "", name or "")
        resource = qualified(prefix, plural)
        body = self._decode(request.body, request.content_type) if request.body else {}
        operations = body if "json-patch" in request.content_type else []
        if "json-patch" in request.content_type:
            body = {}
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be an object")
        with self.store.lock:
            live = self.store.objects.get(key)
            if method == "GET":
                found = self._found(live, resource, name)
                return 200, (_as_scale(found) if sub == "scale" else found)
            if method == "POST":
                return self._create(request, prefix, plural, namespace, body)
            if method == "DELETE":
                return self._delete(request, key, live, body)
            if method == "PUT":
                current = self._found(live, resource, name)
                self._check_version(body, current, resource, name)
                if sub == "scale":
                    scaled = copy.deepcopy(current)
                    scaled["spec"]["replicas"] = body.get("spec", {}).get("replicas", 0)
                    return 200, _as_scale(self._write(request, key, current, scaled, "Update"))
                new = self._subresource_write(current, body, sub, has_status)
                return 200, self._write(request, key, current, new, "Update", sub=sub)
            if method == "PATCH":
                if "apply-patch" in request.content_type:
                    return self._server_side_apply(request, key, live, body, sub, has_status, namespaced)
                current = self._found(live, resource, name)
                target = _as_scale(current) if sub == "scale" else current
                if "json-patch" in request.content_type:
                    patched = json_patch(target, operations)
                else:
                    self._check_version(body, current, resource, name)
                    patched = strategic_merge_patch(target, body, _kind_schema(prefix, kind)) \
                        if "strategic-merge-patch" in request.content_type else merge_patch(target, body)
                if sub == "scale":
                    patched = merge_patch(current, {"spec": {"replicas": patched.get("spec", {}).get("replicas")}})
                new = self._subresource_write(current, patched, sub if sub != "scale" else None, has_status)
                stored = self._write(request, key, current, new, "Update", sub=sub)
                return 200, (_as_scale(stored) if sub == "scale" else stored)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    # --- authorization: SelfSubjectAccessReview -----------------------------------------------------
    def deny(self, group: str, resource: str, verb: str = "*") -> None:
        """Make SelfSubjectAccessReview refuse `verb` (or every verb) on a resource."""
        self.denied.add((group, resource, verb))

    def _access_review(self, method: str, body: dict) -> tuple[int, dict]:
        if method != "POST":
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on selfsubjectaccessreviews")
        attributes = (body.get("spec") or {}).get("resourceAttributes")
        if body.get("kind") != "SelfSubjectAccessReview" or not isinstance(attributes, dict):
            raise ApiError(422, "Invalid", "spec.resourceAttributes: Required value")
        key = (attributes.get("group", ""), attributes.get("resource", ""))
        denied = (*key, attributes.get("verb", "")) in self.denied or (*key, "*") in self.denied
        status = {"allowed": not denied, **({"reason": "denied by the test"} if denied else {})}
        return 201, {**body, "status": status}

    # --- handlers --------------------------------------------------------------------------------
    def _discovery(self, request: Request) -> dict | None:
        path = request.path.rstrip("/") or "/"
        if request.method != "GET":
            return None
        if path == "/version":
            return discovery.VERSION
        if path == "/api":
            return discovery.api_versions(self.url.split("//", 1)[1] if self._server else "127.0.0.1")
        if path == "/apis":
            return discovery.api_groups()
        if path == "/openapi/v3":
            return discovery.openapi_index()
        if path.startswith("/openapi/v3/"):
            prefix = path[len("/openapi/v3/"):]
            if prefix in discovery.prefixes():
                return discovery.openapi_document(prefix)
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        if path == "/openapi/v2":
            raise ApiError(404, "NotFound", "the emulator serves OpenAPI v3 only (/openapi/v3)")
        segments = path.strip("/").split("/")
        if segments[:2] == ["api", "v1"] and len(segments) == 2 or segments[0] == "apis" and len(segments) == 3:
            return discovery.resource_list("/".join(segments))
        if segments[0] == "apis" and len(segments) == 2:
            group = next((g for g in discovery.api_groups()["groups"] if g["name"] == segments[1]), None)
            if group:
                return {"kind": "APIGroup", "apiVersion": "v1", **group}
        return None

    def _list(self, request: Request, prefix: str, plural: str, namespace: str | None) -> dict:
        kind = RESOURCES[(prefix, plural)][0]
        fields = _field_selector(request.param("fieldSelector"), kind)
        limit = int(request.param("limit", "0") or 0)
        token = request.param("continue")
        labels = parse_selector(request.param("labelSelector"))
        with self.store.lock:
            version = self.store.version
            found = self.store.by_resource.get((prefix, plural), {})
            start: tuple[str, str] = ("", "")
            if token:
                token_version, start = decode_continue(token)
                found = snapshot(self.store.log, token_version, prefix, plural, found)
                version = str(token_version)
            items = [copy.deepcopy(obj) for (ns, name), obj in sorted(found.items())
                     if (namespace is None or ns == namespace) and (not token or (ns, name) > start)
                     and labels(obj["metadata"].get("labels") or {}) and fields(obj)]
        metadata: dict = {"resourceVersion": version}
        next_token = ""
        if limit and len(items) > limit:
            items, rest = items[:limit], len(items) - limit
            last = items[-1]["metadata"]
            next_token = encode_continue(version, (last.get("namespace", ""), last["name"]))
            metadata.update({"continue": next_token, "remainingItemCount": rest})
        if discovery.wants_table(request.accept):
            return discovery.table(kind, items, version, next_token)
        for item in items:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        return {"kind": f"{kind}List", "apiVersion": api_version(prefix), "metadata": metadata, "items": items}

    def _create(self, request: Request, prefix: str, plural: str, namespace: str | None,
                body: dict) -> tuple[int, dict]:
        kind, namespaced, has_status = RESOURCES[(prefix, plural)]
        name = (body.get("metadata") or {}).get("name")
        key = (prefix, plural, namespace or "", name or "")
        if key in self.store.objects:
            raise ApiError(409, "AlreadyExists", f'{qualified(prefix, plural)} "{name}" already exists',
                           {"name": name, "kind": plural})
        if namespaced:
            self._require_namespace(namespace)
        if has_status:
            body.pop("status", None)
        return 201, self._write(request, key, None, body, "Update")

    def _delete(self, request: Request, key, live: dict | None, body: dict) -> tuple[int, dict]:
        name = key[3]
        current = self._found(live, qualified(key[0], key[1]), name)
        preconditions = body.get("preconditions") or {}
        for field_name, actual in (("uid", current["metadata"]["uid"]),
                                   ("resourceVersion", current["metadata"]["resourceVersion"])):
            wanted = preconditions.get(field_name)
            if wanted and wanted != actual:
                raise ApiError(409, "Conflict", f"Precondition failed: {field_name[0].upper() + field_name[1:]} in "
                               f"precondition: {wanted}, {field_name} in object meta: {actual}")
        policy = request.param("propagationPolicy") or body.get("propagationPolicy") or "Background"
        grace = request.param("gracePeriodSeconds") or body.get("gracePeriodSeconds")
        if request.param("dryRun") == "All":
            return 200, current
        deleted = self.store.delete(key, propagation=policy, grace_seconds=None if grace is None else int(grace))
        return 200, deleted  # the API server answers with the object

    def _write(self, request: Request, key, before: dict | None, new: dict, operation: str, *,
               sub: str | None = None, manager: str = "") -> dict:
        """Default, validate, admit and store `new`; the fields it changed go to its manager."""
        prefix, plural, namespace, name = key
        kind = RESOURCES[(prefix, plural)][0]
        new = copy.deepcopy(new)
        new["apiVersion"], new["kind"] = api_version(prefix), kind
        new.setdefault("metadata", {})
        new["metadata"]["name"] = name or new["metadata"].get("name")
        if namespace:
            new["metadata"]["namespace"] = namespace
        self._field_validation(request, kind, new, _kind_schema(prefix, kind))
        apply_defaults(kind, new, store_default_class=self.store.default_storage_class())
        validate(kind, new, before)
        if before is not None and before["metadata"].get("deletionTimestamp"):
            added = set(new["metadata"].get("finalizers") or []) - set(before["metadata"].get("finalizers") or [])
            if added:
                raise ApiError(422, "Invalid", f'{kind} "{name}" is invalid: metadata.finalizers: Forbidden: no new '
                               "finalizers can be added if the object is being deleted")
        namespace_obj = self.store.objects.get(("api/v1", "namespaces", "", namespace)) if namespace else None
        if kind == "Pod" and before is None:
            admission.check_pod(namespace_obj, new)
        if kind in ("Pod", "StatefulSet") and sub is None:
            request.warnings += admission.warnings(namespace_obj, kind, new)
        if request.param("dryRun") == "All":
            return new
        if sub in (None, "scale") and operation == "Update":
            managers = self.store.managers.setdefault(key, FieldManagers())
            managers.update(before, new, manager or self._manager(request),
                            _kind_schema(prefix, kind), api_version(prefix))
        return self.store.put(key, new)

    @staticmethod
    def _field_validation(request: Request, kind: str, obj: dict, schema) -> None:
        """Unknown fields are dropped; `fieldValidation=Strict` refuses them (400), `Warn` (the default) warns."""
        mode = request.param("fieldValidation", "Warn")
        unknown = prune_unknown(obj, schema) if schema else []
        if not unknown or mode == "Ignore":
            return
        if mode == "Strict":
            fields = ", ".join(f'unknown field "{path}"' for path in unknown)
            raise ApiError(400, "BadRequest", f'{kind} in version "{obj["apiVersion"].split("/")[-1]}" cannot be '
                           f"handled as a {kind}: strict decoding error: {fields}")
        request.warnings += [f'unknown field "{path}"' for path in unknown]

    @staticmethod
    def _manager(request: Request) -> str:
        """The `fieldManager` parameter, or what the API server derives from the user agent."""
        if request.param("fieldManager"):
            return request.param("fieldManager")
        agent = request.user_agent.split("/", 1)[0] or "unknown"
        return agent[:128]

    def _check_version(self, body: dict, current: dict, resource: str, name: str | None) -> None:
        sent = (body.get("metadata") or {}).get("resourceVersion")
        if sent and sent != current["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource} "{name}": the object '
                           "has been modified; please apply your changes to the latest version and try again",
                           {"name": name, "kind": resource.split(".")[0]})

    def _server_side_apply(self, request: Request, key, live, body, sub, has_status, namespaced) -> tuple[int, dict]:
        prefix, plural, namespace, name = key
        kind = RESOURCES[(prefix, plural)][0]
        manager = request.param("fieldManager")
        if not manager:
            raise ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                           "is required for apply patch")
        if body.get("kind") != kind or body.get("apiVersion") != api_version(prefix):
            raise ApiError(400, "BadRequest", f"the apply configuration's apiVersion/kind must be "
                           f"{api_version(prefix)}/{kind}, not {body.get('apiVersion')}/{body.get('kind')}")
        if (body.get("metadata") or {}).get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        if namespaced and live is None:
            self._require_namespace(namespace)
        if live is not None:
            self._check_version(body, live, qualified(prefix, plural), name)
        config = copy.deepcopy(body)
        config.get("metadata", {}).pop("resourceVersion", None)
        if sub == "status":
            base = copy.deepcopy(live) if live else None
            if base is None:
                raise ApiError(404, "NotFound", f'{qualified(prefix, plural)} "{name}" not found')
            base["status"] = merge_patch(base.get("status") or {}, config.get("status") or {})
            return 200, self._write(request, key, live, base, "Apply", sub=sub)
        if has_status:
            config.pop("status", None)
        previous = self.store.managers.get(key)
        managers = copy.deepcopy(previous) or FieldManagers()
        merged = managers.apply(live, config, manager, force=request.param("force") == "true",
                                schema=_kind_schema(prefix, kind), api_version=api_version(prefix))
        dry_run = request.param("dryRun") == "All"
        if not dry_run:
            self.store.managers[key] = managers
        try:
            stored = self._write(request, key, live, merged, "Apply")
        except ApiError:
            if not dry_run:
                self.store.managers.pop(key, None)
                if previous is not None:
                    self.store.managers[key] = previous
            raise
        return (201 if live is None else 200), stored

    def _require_namespace(self, namespace: str | None) -> None:
        if not namespace:
            return
        found = self.store.objects.get(("api/v1", "namespaces", "", namespace))
        if found is None:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found',
                           {"name": namespace, "kind": "namespaces"})
        if found["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden", f"unable to create new content in namespace {namespace} because it "
                           "is being terminated")

    @staticmethod
    def _subresource_write(current: dict, new: dict, sub: str | None, has_status: bool) -> dict:
        if sub == "status":
            result = copy.deepcopy(current)
            result["status"] = new.get("status", {})
            return result
        if has_status:
            new = copy.deepcopy(new)
            new["status"] = current.get("status", {})
        return new

    @staticmethod
    def _found(live: dict | None, resource: str, name: str | None) -> dict:
        if live is None:
            raise ApiError(404, "NotFound", f'{resource} "{name}" not found',
                           {"name": name, "kind": resource.split(".")[0]})
        return copy.deepcopy(live)

    @staticmethod
    def _decode(raw: bytes, content_type: str) -> dict:
        if "protobuf" in content_type:  # client-go then retries with JSON
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: application/json, application/yaml, "
                           "application/apply-patch+yaml, application/merge-patch+json, "
                           "application/strategic-merge-patch+json, application/json-patch+json")
        try:
            return yaml.safe_load(raw) if "yaml" in content_type else json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError(400, "BadRequest", f"cannot decode body: {exc}") from exc

    @staticmethod
    def _route(path: str) -> tuple[str, str, str | None, str | None, str | None]:
        segments = [s for s in path.split("/") if s]
        if segments[:2] == ["api", "v1"]:
            prefix, rest = "api/v1", segments[2:]
        elif segments[:1] == ["apis"] and len(segments) >= 3:
            prefix, rest = "/".join(segments[:3]), segments[3:]
        else:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest or (prefix, rest[0]) not in RESOURCES:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        return prefix, plural, namespace, name, sub

    # --- watch -----------------------------------------------------------------------------------
    def _watch(self, http: BaseHTTPRequestHandler, request: Request) -> None:
        """Stream changes as JSON lines (chunked) until `timeoutSeconds`, the client leaves or the server stops."""
        try:
            prefix, plural, namespace, _, _ = self._route(request.path)
            fields = _field_selector(request.param("fieldSelector"), RESOURCES[(prefix, plural)][0])
        except ApiError as exc:
            self._send(http, exc.code, exc.status())
            return
        kind, namespaced, _ = RESOURCES[(prefix, plural)]
        namespace = namespace if namespaced else None
        labels = parse_selector(request.param("labelSelector"))
        as_table = discovery.wants_table(request.accept)

        def shown(obj: dict) -> dict:
            """The event's object: itself, or a one-row Table for `kubectl get -w`."""
            return discovery.table(kind, [obj], obj["metadata"].get("resourceVersion", "")) if as_table else obj

        def match(obj: dict) -> bool:
            return labels((obj.get("metadata") or {}).get("labels") or {}) and fields(obj)

        bookmarks = request.param("allowWatchBookmarks") in ("true", "1")
        timeout = min(float(request.param("timeoutSeconds") or self.max_watch_seconds), self.max_watch_seconds)
        deadline = time.monotonic() + timeout
        start = request.param("resourceVersion")
        with self.store.lock:
            if start in ("", "0"):
                version = int(self.store.version)
                initial = [("ADDED", obj) for obj in self.store.list(prefix, plural, namespace) if match(obj)]
            else:
                version, initial = int(start) if start.isdigit() else 0, []
        try:
            http.send_response(200)
            http.send_header("Content-Type", "application/json")
            http.send_header("Transfer-Encoding", "chunked")
            http.end_headers()
            for change_type, obj in initial:
                self._chunk(http, event(change_type, shown(obj)))
            last_bookmark = time.monotonic()
            log = self.store.log
            while not self._closing.is_set() and time.monotonic() < deadline:
                try:
                    changes, version = log.since(version, prefix, plural, namespace)
                except ApiError as exc:
                    self._chunk(http, error_event(exc))
                    break
                for change in changes:
                    seen = visible(change, match)
                    if seen:
                        self._chunk(http, event(seen[0], shown(seen[1])))
                if bookmarks and time.monotonic() - last_bookmark >= self.bookmark_interval:
                    self._chunk(http, bookmark(kind, api_version(prefix), version))
                    last_bookmark = time.monotonic()
                wait = max(0.0, min(self.bookmark_interval, 0.5, deadline - time.monotonic()))
                with log.changed:
                    log.changed.wait_for(lambda v=version: log.latest > v or self._closing.is_set(), timeout=wait)
            http.wfile.write(b"0\r\n\r\n")
            http.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return
        http.close_connection = True

    @staticmethod
    def _chunk(http: BaseHTTPRequestHandler, data: bytes) -> None:
        http.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        http.wfile.flush()

SIMULATED_NODE = "emulator"  # the node simulated pods are bound to (so their deletion is graceful)


@dataclass
class PodTrouble:
    """Why a simulated pod is not ready: a container waiting reason, or a scheduling/volume problem."""
    reason: str  # ImagePullBackOff | CrashLoopBackOff | Unschedulable | PVCPending
    message: str = ""


@dataclass
class SimulatedController:
    """The part of kube-controller-manager and kubelet the control plane depends on.

    `step()` creates pods (and PVCs) for every StatefulSet, deletes pods beyond `replicas`,
    marks pods ready unless told otherwise (`trouble`), and writes StatefulSet status.
    With `OnDelete` it never replaces a running pod; a deleted pod comes back at the new revision.
    With a `kubelet` attached (tests/kube/podrunner), pods run for real and it owns their IP and status.
    """
    store: Store
    trouble: dict[str, PodTrouble] = field(default_factory=dict)  # pod name or StatefulSet name -> trouble
    kubelet: object | None = None
    _ips: int = 0

    def break_pods(self, name: str, reason: str, message: str = "") -> None:
        self.trouble[name] = PodTrouble(reason, message or f"simulated {reason}")

    def heal(self, name: str | None = None) -> None:
        if name is None:
            self.trouble.clear()
        else:
            self.trouble.pop(name, None)

    def step(self) -> None:
        with self.store.lock:
            for pod in self.store.all_of("Pod"):  # the kubelet: containers stopped, deletion confirmed
                if pod["metadata"].get("deletionTimestamp") and self.kubelet is None:
                    self.store.delete_kind("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
            for sts in self.store.all_of("StatefulSet"):
                self._reconcile_statefulset(sts)

    def _reconcile_statefulset(self, sts: dict) -> None:
        meta, spec = sts["metadata"], sts["spec"]
        namespace, name = meta["namespace"], meta["name"]
        template = spec["template"]
        revision = f"{name}-{_short_hash(template)}"
        replicas = int(spec.get("replicas", 1))
        selector = ",".join(f"{k}={v}" for k, v in spec["selector"]["matchLabels"].items())
        for orphan in self.store.all_of("Pod", namespace, selector):
            if not any(r.get("controller") for r in orphan["metadata"].get("ownerReferences", [])):
                orphan["metadata"]["ownerReferences"] = [_controller_ref(sts)]  # adopted, as the real one does
                self.store.put_kind("Pod", orphan)
        pods = {p["metadata"]["name"]: p for p in self.store.all_of("Pod", namespace, selector)
                if any(r.get("uid") == meta["uid"] for r in p["metadata"].get("ownerReferences", []))}
        for pod_name in list(pods):
            ordinal = int(pod_name.rsplit("-", 1)[1])
            if ordinal >= replicas:
                self.store.delete_kind("Pod", namespace, pod_name)
        for ordinal in range(replicas):
            pod_name = f"{name}-{ordinal}"
            pod = pods.get(pod_name)
            if pod is None:
                for claim in spec.get("volumeClaimTemplates") or []:
                    self._ensure_claim(sts, claim, pod_name)
                pod = self._new_pod(sts, pod_name, revision)
                if pod is None:
                    break  # FailedCreate: the real controller stops at the first pod it cannot create
            self._set_pod_status(pod, sts)
        pods = [p for p in self.store.all_of("Pod", namespace, selector)
                if any(r.get("uid") == meta["uid"] for r in p["metadata"].get("ownerReferences", []))]
        ready = [p for p in pods if _pod_ready(p)]
        updated = [p for p in pods if p["metadata"]["labels"].get("controller-revision-hash") == revision]
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": len(ready),
            "availableReplicas": len(ready),
            "currentReplicas": len(pods) - len(updated),
            "updatedReplicas": len(updated),
            "updateRevision": revision,
            "currentRevision": revision if len(updated) == len(pods) else sts.get("status", {}).get(
                "currentRevision", revision),
        }
        if sts.get("status") != status:
            sts["status"] = status
            self.store.put_kind("StatefulSet", sts)

    def _new_pod(self, sts: dict, pod_name: str, revision: str) -> dict:
        meta = sts["metadata"]
        template = copy.deepcopy(sts["spec"]["template"])
        labels = dict(template.get("metadata", {}).get("labels") or {})
        labels.update({"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pod_name})
        self._ips += 1
        spec = copy.deepcopy(template.get("spec", {}))
        for claim in sts["spec"].get("volumeClaimTemplates") or []:  # as the StatefulSet controller does
            claim_name = claim["metadata"]["name"]
            spec.setdefault("volumes", []).append(
                {"name": claim_name, "persistentVolumeClaim": {"claimName": f"{claim_name}-{pod_name}"}})
        pod = {
            "metadata": {
                "name": pod_name, "namespace": meta["namespace"], "labels": labels,
                "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
                "ownerReferences": [_controller_ref(sts)],
            },
            # With a kubelet attached, the pod runner's scheduler binds the pod and its kubelet gives the IP.
            "spec": {**spec, "hostname": pod_name, **({} if self.kubelet else {"nodeName": SIMULATED_NODE}),
                     "subdomain": sts["spec"].get("serviceName", "")},
            "status": {} if self.kubelet else {"podIP": f"127.1.{self._ips // 250}.{self._ips % 250 + 1}"},
        }
        refused = self._admit(sts, pod)
        if refused:
            self._failed_create(sts, pod_name, refused)
            return None
        return self.store.put_kind("Pod", pod)

    def _admit(self, sts: dict, pod: dict) -> str:
        """Why the API server would refuse this pod (invalid labels or hostname, Pod Security), or ""."""
        causes = pod_name_causes(pod)
        if causes:
            return f'Pod "{pod["metadata"]["name"]}" is invalid: ' + ", ".join(f"{f}: {m}" for f, m in causes)
        try:
            admission.check_pod(self.store.find("Namespace", "", pod["metadata"]["namespace"]), pod)
        except ApiError as exc:
            return exc.message
        return ""

    def _failed_create(self, sts: dict, pod_name: str, message: str) -> None:
        meta = sts["metadata"]
        name = f"{meta['name']}.failedcreate"
        if self.store.find("Event", meta["namespace"], name) is None:
            self.store.put_kind("Event", {
                "metadata": {"name": name, "namespace": meta["namespace"]},
                "involvedObject": {"kind": "StatefulSet", "apiVersion": "apps/v1", "name": meta["name"],
                                   "namespace": meta["namespace"], "uid": meta["uid"]},
                "reason": "FailedCreate", "type": "Warning", "source": {"component": "statefulset-controller"},
                "message": f"create Pod {pod_name} in StatefulSet {meta['name']} failed error: {message}",
                "firstTimestamp": _now(), "lastTimestamp": _now(), "count": 1})

    def _ensure_claim(self, sts: dict, claim: dict, pod_name: str) -> None:
        namespace = sts["metadata"]["namespace"]
        claim_name = f"{claim['metadata']['name']}-{pod_name}"
        if self.store.find("PersistentVolumeClaim", namespace, claim_name) is None:
            self.store.put_kind("PersistentVolumeClaim", {
                "metadata": {"name": claim_name, "namespace": namespace,
                             "labels": dict(claim["metadata"].get("labels") or {})},
                "spec": copy.deepcopy(claim["spec"]),
                "status": {"phase": "Bound"},
            })

    def _set_pod_status(self, pod: dict, sts: dict) -> None:
        name = pod["metadata"]["name"]
        if self.kubelet is not None:  # the kubelet writes pod status; claims still bind
            self._bind_claims(pod)
            return
        trouble = self.trouble.get(name) or self.trouble.get(sts["metadata"]["name"])
        status = {"podIP": pod.get("status", {}).get("podIP", "")}
        running = [s["state"]["running"] for s in pod.get("status", {}).get("containerStatuses", [])
                   if "running" in s.get("state", {})]
        started = running[0]["startedAt"] if running else _now()  # unchanged status: no write, no watch event
        if trouble is None:
            status.update(phase="Running", conditions=[
                {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
                containerStatuses=[{"name": c["name"], "ready": True, "restartCount": 0,
                                    "image": c.get("image", ""), "state": {"running": {"startedAt": started}}}
                                   for c in pod["spec"].get("containers", [])])
        elif trouble.reason in ("Unschedulable", "PVCPending"):
            message = trouble.message
            if trouble.reason == "PVCPending":
                message = 'pod has unbound immediate PersistentVolumeClaims'
                for claim in self.store.all_of("PersistentVolumeClaim", pod["metadata"]["namespace"]):
                    if claim["metadata"]["name"].endswith(name):
                        claim["status"] = {"phase": "Pending"}
                        self.store.put_kind("PersistentVolumeClaim", claim)
            status.update(phase="Pending", conditions=[
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}])
        else:
            status.update(phase="Running" if trouble.reason == "CrashLoopBackOff" else "Pending", conditions=[
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
                containerStatuses=[{"name": c["name"], "ready": False, "restartCount": 3,
                                    "image": c.get("image", ""),
                                    "state": {"waiting": {"reason": trouble.reason, "message": trouble.message}}}
                                   for c in pod["spec"].get("containers", [])])
        if trouble is None:
            self._bind_claims(pod)
        if pod.get("status") != status:
            pod["status"] = status
            self.store.put_kind("Pod", pod)

    def _bind_claims(self, pod: dict) -> None:
        name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
        if not namespace:
            return
        for claim in self.store.all_of("PersistentVolumeClaim", namespace):
            if claim["metadata"]["name"].endswith(f"-{name}") and claim.get("status", {}).get("phase") != "Bound":
                claim["status"] = {"phase": "Bound"}
                self.store.put_kind("PersistentVolumeClaim", claim)


def _controller_ref(sts: dict) -> dict:
    meta = sts["metadata"]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def _pod_ready(pod: dict) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _short_hash(obj: dict) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:10]


def _pod_runner_module():
    """The pod runner package (tests/kube/podrunner), or None where this checkout has none."""
    if importlib.util.find_spec(f"{__package__}.podrunner") is None:
        return None
    return importlib.import_module(f"{__package__}.podrunner")


def main(argv: list[str] | None = None) -> int:
    """Serve the emulator until Ctrl-C, with a kubeconfig for `kubectl`."""
    parser = argparse.ArgumentParser(prog="python -m tests.kube.emulator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=6443, help="port on 127.0.0.1 (default 6443; 0: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--kubeconfig", default="var/emulator/kubeconfig",
                        help="where to write the kubeconfig (default var/emulator/kubeconfig)")
    parser.add_argument("--run-pods", action="store_true", help="run pods for real (tests/kube/podrunner)")
    args = parser.parse_args(argv)
    emulator = KubernetesApiEmulator()
    emulator.start(args.port, args.host)
    controller = SimulatedController(emulator.store)
    runner = None
    if args.run_pods:
        podrunner = _pod_runner_module()
        reason = "this checkout has no pod runner (tests/kube/podrunner)" if podrunner is None \
            else podrunner.unavailable()
        if reason:
            print(f"--run-pods unavailable: {reason}; pods are simulated instead", flush=True)
        else:
            runner = podrunner.PodRunner(emulator.store, controller).start()
    emulator.after_write.append(controller.step)
    emulator.store.put_kind("Namespace", {"metadata": {"name": "default"}})
    kubeconfig = Path(args.kubeconfig)
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig.write_text(emulator.kubeconfig())
    os.chmod(kubeconfig, 0o600)
    print(f"Kubernetes API emulator on {emulator.url}\nkubeconfig: {kubeconfig}\n"
          f"try: kubectl --kubeconfig {kubeconfig} get statefulsets,pods,svc -A\nCtrl-C to stop", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        controller.step()  # pods and StatefulSet status also move between writes
    if runner is not None:
        runner.stop()
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
