"""A Kubernetes API server emulator speaking the real REST protocol over HTTP on 127.0.0.1.

kmock's KubernetesEmulator stores objects as plain merged dicts: no resourceVersion checks, no
label selectors, no server-side apply. This one keeps what the control plane relies on:

- core and group paths (`/api/v1/...`, `/apis/<group>/<version>/...`), namespaced and cluster-wide lists;
- resourceVersion on every write, 409 `Conflict` on a stale PUT, 409 `AlreadyExists` on create;
- server-side apply (`application/apply-patch+yaml`) per field manager: fields a manager stopped
  applying are removed, other fields are kept; JSON merge patch (strategic merge is treated as merge);
- `status` subresources (writes to the object ignore status, `/status` writes only status);
- equality label selectors (`a=b`, `a!=b`, `a`, `!a`), 404 `NotFound`, deletion with owner GC;
- injectable faults: an HTTP status (500, 409, ...) or a hang, for the next N matching requests;
- a request log, so tests and benchmarks count calls;
- `/version`, and SelfSubjectAccessReview: everything allowed unless a test denies it (`deny`).

Server-side apply simplifications (documented in docs/kubernetes.md): lists are atomic (replaced
whole), and `force` is assumed (the control plane always forces).
"""
from __future__ import annotations

import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

# (api prefix, plural) -> (kind, namespaced, has status subresource)
RESOURCES: dict[tuple[str, str], tuple[str, bool, bool]] = {
    ("api/v1", "namespaces"): ("Namespace", False, True),
    ("api/v1", "pods"): ("Pod", True, True),
    ("api/v1", "services"): ("Service", True, True),
    ("api/v1", "secrets"): ("Secret", True, False),
    ("api/v1", "configmaps"): ("ConfigMap", True, False),
    ("api/v1", "serviceaccounts"): ("ServiceAccount", True, False),
    ("api/v1", "persistentvolumeclaims"): ("PersistentVolumeClaim", True, True),
    ("api/v1", "resourcequotas"): ("ResourceQuota", True, True),
    ("api/v1", "events"): ("Event", True, False),
    ("apis/apps/v1", "statefulsets"): ("StatefulSet", True, True),
    ("apis/policy/v1", "poddisruptionbudgets"): ("PodDisruptionBudget", True, True),
    ("apis/rbac.authorization.k8s.io/v1", "roles"): ("Role", True, False),
    ("apis/rbac.authorization.k8s.io/v1", "rolebindings"): ("RoleBinding", True, False),
    ("apis/networking.k8s.io/v1", "ingresses"): ("Ingress", True, True),
    ("apis/networking.k8s.io/v1", "networkpolicies"): ("NetworkPolicy", True, False),
    ("apis/storage.k8s.io/v1", "storageclasses"): ("StorageClass", False, False),
    ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions"): ("CustomResourceDefinition", False, True),
}
ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
KIND_TO_RESOURCE = {kind: (prefix, plural) for (prefix, plural), (kind, _, _) in RESOURCES.items()}


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> dict:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}


@dataclass
class Fault:
    """Answer the next `count` requests matching `method`/`path_contains` with `status`, or hang first."""
    status: int = 500
    count: int = 1
    method: str | None = None
    path_contains: str = ""
    hang_seconds: float = 0.0

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


def merge_patch(target: dict, patch: dict) -> dict:
    """RFC 7386 JSON merge patch."""
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_patch(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _drop_unapplied(live: dict, previous: dict, new: dict) -> None:
    """Remove from `live` the fields a manager applied before and no longer applies."""
    for key, value in previous.items():
        if key not in new:
            live.pop(key, None)
        elif isinstance(value, dict) and isinstance(new[key], dict) and isinstance(live.get(key), dict):
            _drop_unapplied(live[key], value, new[key])


def _apply_merge(live: dict, applied: dict) -> dict:
    result = copy.deepcopy(live)
    for key, value in applied.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _apply_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class Store:
    """Objects by (prefix, plural, namespace, name), with resourceVersions and per-manager applied fields."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        # (prefix, plural) -> {(namespace, name): object}: lists scan one kind, not the whole store.
        self.by_resource: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
        self.applied: dict[tuple[str, str, str, str], dict[str, dict]] = {}
        self._version = 0

    def next_version(self) -> str:
        self._version += 1
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

    # --- writes ----------------------------------------------------------------------------------
    def _stamp(self, key, obj: dict, before: dict | None) -> dict:
        prefix, plural, namespace, name = key
        kind = RESOURCES[(prefix, plural)][0]
        obj["apiVersion"] = prefix.split("/", 1)[1] if prefix.startswith("apis/") else "v1"
        obj["kind"] = kind
        meta = obj.setdefault("metadata", {})
        meta["name"] = name
        if namespace:
            meta["namespace"] = namespace
        if before is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = _now()
            meta["generation"] = 1
            if kind == "Service" and obj.get("spec", {}).get("clusterIP") != "None":
                obj.setdefault("spec", {})["clusterIP"] = f"127.2.{len(self.objects) // 250}.{len(self.objects) % 250}"
        else:
            for keep in ("uid", "creationTimestamp", "generation"):
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
        """Store `obj` as the new state of `key` (used by the simulated controller and handlers)."""
        with self.lock:
            before = self.objects.get(key)
            stored = self._stamp(key, copy.deepcopy(obj), before)
            self.objects[key] = stored
            self.by_resource.setdefault(key[:2], {})[key[2:]] = stored
            return copy.deepcopy(stored)

    def put_kind(self, kind: str, obj: dict) -> dict:
        prefix, plural = KIND_TO_RESOURCE[kind]
        meta = obj["metadata"]
        return self.put((prefix, plural, meta.get("namespace", ""), meta["name"]), obj)

    def delete(self, key, *, orphan: bool = False) -> dict | None:
        with self.lock:
            obj = self.objects.pop(key, None)
            self.by_resource.get(key[:2], {}).pop(key[2:], None)
            self.applied.pop(key, None)
            if obj is not None and not orphan:
                uid = obj["metadata"]["uid"]
                dependents = [k for k, o in self.objects.items()
                              if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences", []))]
                for dependent in dependents:
                    self.delete(dependent)
            return obj

    def delete_kind(self, kind: str, namespace: str, name: str) -> dict | None:
        prefix, plural = KIND_TO_RESOURCE[kind]
        return self.delete((prefix, plural, namespace, name))


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
    clean.get("metadata", {}).pop("managedFields", None)
    return clean


class KubernetesApiEmulator:
    """The HTTP server; `store` is the cluster state, `faults` the injected failures."""

    def __init__(self) -> None:
        self.store = Store()
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.after_write: list[Callable[[], None]] = []
        # (group, resource, verb) that SelfSubjectAccessReview answers "not allowed"; verb "*" denies all verbs.
        self.denied: set[tuple[str, str, str]] = set()

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
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
            self._send(http, fault.status, ApiError(fault.status, "InternalError" if fault.status >= 500 else
                                                      "Conflict", "injected fault").status())
            return
        try:
            code, body = self.dispatch(method, parts.path, parse_qs(parts.query), raw,
                                       http.headers.get("Content-Type", ""))
        except ApiError as exc:
            code, body = exc.code, exc.status()
        if method != "GET" and 200 <= code < 300:
            for callback in list(self.after_write):
                callback()
        self._send(http, code, body)

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            http.send_response(code)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(data)))
            http.end_headers()
            http.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def dispatch(self, method: str, path: str, query: dict, raw: bytes, content_type: str) -> tuple[int, dict]:
        if path == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-emulator"}
        if path == ACCESS_REVIEW_PATH:
            return self._access_review(method, self._decode(raw, content_type) if raw else {})
        prefix, plural, namespace, name, sub = self._route(path)
        kind, namespaced, has_status = RESOURCES[(prefix, plural)]
        key = (prefix, plural, namespace or "", name or "")
        selector = (query.get("labelSelector") or [""])[0]
        if method == "GET" and name is None:
            items = self.store.list(prefix, plural, namespace if namespaced else None, selector)
            for item in items:
                item.pop("apiVersion", None)
                item.pop("kind", None)
            return 200, {"kind": f"{kind}List", "apiVersion": "v1" if prefix == "api/v1" else prefix.split("/", 1)[1],
                         "metadata": {"resourceVersion": str(self.store._version)}, "items": items}
        body = self._decode(raw, content_type) if raw else {}
        with self.store.lock:
            live = self.store.objects.get(key)
            if method == "GET":
                return 200, self._found(live, kind, name)
            if method == "POST":
                name = (body.get("metadata") or {}).get("name")
                key = (prefix, plural, namespace or "", name)
                if key in self.store.objects:
                    raise ApiError(409, "AlreadyExists", f'{plural} "{name}" already exists')
                if namespaced:
                    self._require_namespace(namespace)
                if has_status:
                    body.pop("status", None)
                return 201, self.store.put(key, body)
            if method == "DELETE":
                self._found(live, kind, name)
                orphan = (query.get("propagationPolicy") or [""])[0] == "Orphan" or \
                    (body.get("propagationPolicy") == "Orphan")
                return 200, self.store.delete(key, orphan=orphan)  # the API server answers with the object
            if method == "PUT":
                current = self._found(live, kind, name)
                sent_version = (body.get("metadata") or {}).get("resourceVersion")
                if sent_version and sent_version != current["metadata"]["resourceVersion"]:
                    raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": the object '
                                   "has been modified; please apply your changes to the latest version and try again")
                return 200, self.store.put(key, self._subresource_write(current, body, sub, has_status))
            if method == "PATCH":
                if "apply-patch" in content_type:
                    return self._server_side_apply(key, live, body, query, sub, has_status, namespaced)
                current = self._found(live, kind, name)
                patched = merge_patch(current, body)
                stored = self.store.put(key, self._subresource_write(current, patched, sub, has_status))
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

    def _server_side_apply(self, key, live, body, query, sub, has_status, namespaced) -> tuple[int, dict]:
        manager = (query.get("fieldManager") or [""])[0]
        if not manager:
            raise ApiError(422, "Invalid", "fieldManager is required for apply patch")
        if namespaced and live is None:
            self._require_namespace(key[2])
        applied = copy.deepcopy(body)
        applied.get("metadata", {}).pop("resourceVersion", None)
        if has_status and sub != "status":
            applied.pop("status", None)
        previous = self.store.applied.get(key, {}).get(manager, {})
        base = copy.deepcopy(live) if live else {}
        _drop_unapplied(base, previous, applied)
        merged = _apply_merge(base, applied)
        merged.setdefault("metadata", {})["managedFields"] = [
            {"manager": manager, "operation": "Apply", "apiVersion": body.get("apiVersion", "v1"),
             "fieldsType": "FieldsV1", "fieldsV1": {}}]
        stored = self.store.put(key, merged)
        self.store.applied.setdefault(key, {})[manager] = applied
        return (201 if live is None else 200), stored

    def _require_namespace(self, namespace: str | None) -> None:
        if namespace and ("api/v1", "namespaces", "", namespace) not in self.store.objects:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')

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
    def _found(live: dict | None, kind: str, name: str | None) -> dict:
        if live is None:
            raise ApiError(404, "NotFound", f'{kind.lower()}s "{name}" not found')
        return copy.deepcopy(live)

    @staticmethod
    def _decode(raw: bytes, content_type: str) -> dict:
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
    """
    store: Store
    trouble: dict[str, PodTrouble] = field(default_factory=dict)  # pod name or StatefulSet name -> trouble
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
            for sts in self.store.all_of("StatefulSet"):
                self._reconcile_statefulset(sts)

    def _reconcile_statefulset(self, sts: dict) -> None:
        meta, spec = sts["metadata"], sts["spec"]
        namespace, name = meta["namespace"], meta["name"]
        template = spec["template"]
        revision = f"{name}-{_short_hash(template)}"
        replicas = int(spec.get("replicas", 1))
        selector = ",".join(f"{k}={v}" for k, v in spec["selector"]["matchLabels"].items())
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
                pod = self._new_pod(sts, pod_name, revision)
                for claim in spec.get("volumeClaimTemplates") or []:
                    self._ensure_claim(sts, claim, pod_name)
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
        pod = {
            "metadata": {
                "name": pod_name, "namespace": meta["namespace"], "labels": labels,
                "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": meta["name"],
                                     "uid": meta["uid"], "controller": True}],
            },
            "spec": {**template.get("spec", {}), "hostname": pod_name,
                     "subdomain": sts["spec"].get("serviceName", "")},
            "status": {"podIP": f"127.1.{self._ips // 250}.{self._ips % 250 + 1}"},
        }
        return self.store.put_kind("Pod", pod)

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
        trouble = self.trouble.get(name) or self.trouble.get(sts["metadata"]["name"])
        status = {"podIP": pod.get("status", {}).get("podIP", "")}
        if trouble is None:
            status.update(phase="Running", conditions=[
                {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
                containerStatuses=[{"name": c["name"], "ready": True, "restartCount": 0,
                                    "image": c.get("image", ""), "state": {"running": {"startedAt": _now()}}}
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
        if trouble is None and pod["metadata"]["namespace"]:
            for claim in self.store.all_of("PersistentVolumeClaim", pod["metadata"]["namespace"]):
                if claim["metadata"]["name"].endswith(f"-{name}") and claim.get("status", {}).get("phase") != "Bound":
                    claim["status"] = {"phase": "Bound"}
                    self.store.put_kind("PersistentVolumeClaim", claim)
        if pod.get("status") != status:
            pod["status"] = status
            self.store.put_kind("Pod", pod)


def _pod_ready(pod: dict) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _short_hash(obj: dict) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:10]
