"""Reaching one Kubernetes target: an official `kubernetes` ApiClient built from the Target's settings.

Target settings: `kubeconfig` (YAML text) or `kubeconfig_path`, optional `context`; or
`in_cluster: true` (the pod's service account). `request_timeout` (seconds, default 10) bounds every
call so a hanging API server becomes an error, not a stuck worker.

`KubeApi` speaks the REST paths of the few kinds the control plane manages, through the official
client's HTTP layer (auth, TLS and proxies as kubeconfig says), and turns failures into
`core.errors.TargetError` with a readable reason.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from core.errors import TargetError
from operatorapi.schema import ACCESS_KINDS, GROUP
from operatorapi.schema import KINDS as CUSTOM_KINDS

FIELD_MANAGER = "redis-controlplane"
DEFAULT_TIMEOUT = 10.0
CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class Kind:
    """Where a kind lives in the REST API."""
    kind: str
    prefix: str  # "api/v1" or "apis/<group>/<version>"
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return "v1" if self.prefix == "api/v1" else self.prefix.split("/", 1)[1]

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        path = f"/{self.prefix}"
        if self.namespaced and namespace:
            path += f"/namespaces/{namespace}"
        path += f"/{self.plural}"
        return f"{path}/{name}" if name else path


KINDS: dict[str, Kind] = {k.kind: k for k in [
    Kind("Namespace", "api/v1", "namespaces", namespaced=False),
    Kind("ServiceAccount", "api/v1", "serviceaccounts"),
    Kind("Secret", "api/v1", "secrets"),
    Kind("ConfigMap", "api/v1", "configmaps"),
    Kind("Service", "api/v1", "services"),
    Kind("Pod", "api/v1", "pods"),
    Kind("PersistentVolumeClaim", "api/v1", "persistentvolumeclaims"),
    Kind("ResourceQuota", "api/v1", "resourcequotas"),
    Kind("StatefulSet", "apis/apps/v1", "statefulsets"),
    Kind("PodDisruptionBudget", "apis/policy/v1", "poddisruptionbudgets"),
    Kind("Role", "apis/rbac.authorization.k8s.io/v1", "roles"),
    Kind("RoleBinding", "apis/rbac.authorization.k8s.io/v1", "rolebindings"),
    Kind("Ingress", "apis/networking.k8s.io/v1", "ingresses"),
    Kind("NetworkPolicy", "apis/networking.k8s.io/v1", "networkpolicies"),
    Kind("StorageClass", "apis/storage.k8s.io/v1", "storageclasses", namespaced=False),
    Kind("CustomResourceDefinition", "apis/apiextensions.k8s.io/v1", "customresourcedefinitions", namespaced=False),
    # The Prometheus operator's kinds, rendered where its CRDs are served (kube/render/monitoring.py).
    Kind("ServiceMonitor", "apis/monitoring.coreos.com/v1", "servicemonitors"),
    Kind("PrometheusRule", "apis/monitoring.coreos.com/v1", "prometheusrules"),
    # The custom resources users write with kubectl (kube/crsync), at their storage versions.
    *(Kind(custom.kind, f"apis/{GROUP}/{custom.versions[0]}", custom.plural)
      for custom in (*CUSTOM_KINDS, *ACCESS_KINDS)),
]}


class NotFound(TargetError):
    """The object does not exist (HTTP 404)."""


class Conflict(TargetError):
    """The API server refused a write because of a concurrent change (HTTP 409)."""


def build_api_client(settings: dict) -> k8s.ApiClient:
    """An ApiClient for a target's connection settings."""
    configuration = k8s.Configuration()
    # A read that timed out means the API server hangs: retry it once, then let the engine back off.
    # A 429 comes back to us (not slept on here): its Retry-After becomes the task's countdown.
    configuration.retries = urllib3.Retry(total=2, connect=2, read=1, status=0, redirect=0,
                                          respect_retry_after_header=False)
    try:
        if settings.get("in_cluster"):
            k8s_config.load_incluster_config(client_configuration=configuration)
            return k8s.ApiClient(configuration)
        if settings.get("kubeconfig"):
            config_dict = yaml.safe_load(settings["kubeconfig"])
        elif settings.get("kubeconfig_path"):
            with open(settings["kubeconfig_path"]) as handle:
                config_dict = yaml.safe_load(handle)
        else:
            raise TargetError("the target has no kubeconfig, kubeconfig_path or in_cluster setting")
        return k8s_config.new_client_from_config_dict(config_dict, context=settings.get("context"),
                                                      client_configuration=configuration)
    except (k8s_config.ConfigException, OSError, yaml.YAMLError) as exc:
        raise TargetError(f"cannot load the target's Kubernetes configuration: {exc}") from exc


class KubeApi:
    """Get, list, apply and delete manifests as plain dicts, with bounded time per call."""

    def __init__(self, api_client: k8s.ApiClient, *, timeout: float = DEFAULT_TIMEOUT):
        self.api_client = api_client
        self.timeout = timeout

    def request(self, method: str, path: str, *, query: list[tuple[str, str]] | None = None,
                body: dict | None = None, content_type: str = "application/json") -> dict:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        serialized = self.api_client.param_serialize(method, path, query_params=query or [],
                                                     header_params=headers, body=body,
                                                     auth_settings=["BearerToken"])
        try:
            response = self.api_client.call_api(*serialized, _request_timeout=(self.timeout, self.timeout))
            response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TargetError(f"Kubernetes API unreachable ({method} {path}): {_short(exc)}") from exc
        except ApiException as exc:  # raised by the REST layer on some transport errors
            raise _error(exc.status, exc.body, method, path, exc.headers or {}) from exc
        if not 200 <= response.status <= 299:
            raise _error(response.status, response.data, method, path, response.headers or {})
        return json.loads(response.data) if response.data else {}

    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        try:
            return self.request("GET", KINDS[kind].path(namespace, name))
        except NotFound:
            return None

    def list(self, kind: str, namespace: str | None = None, selector: dict[str, str] | None = None) -> list[dict]:
        """Objects of a kind in one namespace (or all), each with kind/apiVersion filled in."""
        query = [("labelSelector", ",".join(f"{k}={v}" for k, v in selector.items()))] if selector else []
        info = KINDS[kind]
        items = self.request("GET", info.path(namespace), query=query).get("items", [])
        for item in items:
            item.setdefault("kind", kind)
            item.setdefault("apiVersion", info.api_version)
        return items

    def serves(self, kinds: list[str]) -> bool:
        """Whether API discovery lists every one of `kinds` (custom kinds exist only once their CRD does)."""
        listed: dict[str, set[str]] = {}
        for kind in kinds:
            info = KINDS[kind]
            if info.prefix not in listed:
                try:
                    answer = self.request("GET", f"/{info.prefix}")
                except NotFound:
                    return False
                listed[info.prefix] = {r.get("name") for r in answer.get("resources") or []}
            if info.plural not in listed[info.prefix]:
                return False
        return True

    def apply(self, manifest: dict) -> dict:
        """Server-side apply with the control plane's field manager; conflicts are retried."""
        info = KINDS[manifest["kind"]]
        meta = manifest["metadata"]
        path = info.path(meta.get("namespace"), meta["name"])
        query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                return self.request("PATCH", path, query=query, body=manifest,
                                    content_type="application/apply-patch+yaml")
            except Conflict:
                if attempt == CONFLICT_RETRIES:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")

    def merge_patch(self, kind: str, namespace: str | None, name: str, patch: dict, *,
                    subresource: str = "") -> dict:
        path = KINDS[kind].path(namespace, name) + (f"/{subresource}" if subresource else "")
        return self.request("PATCH", path, query=[("fieldManager", FIELD_MANAGER)], body=patch,
                            content_type="application/merge-patch+json")

    def delete(self, kind: str, namespace: str | None, name: str, *, orphan: bool = False) -> bool:
        """True if something was deleted, False if it was already gone."""
        query = [("propagationPolicy", "Orphan" if orphan else "Background")]
        try:
            self.request("DELETE", KINDS[kind].path(namespace, name), query=query)
        except NotFound:
            return False
        return True


def retry_after_seconds(headers) -> float | None:
    """The Retry-After header in seconds, bounded to 1-300 (HTTP dates and junk: None)."""
    value = str(headers.get("Retry-After") or "").strip()
    if not value.isdigit():
        return None
    return float(min(max(int(value), 1), 300))


def _error(status: int, data, method: str, path: str, headers=None) -> TargetError:
    message = ""
    try:
        payload = json.loads(data) if data else {}
        message = payload.get("message", "")
    except (ValueError, TypeError, AttributeError):
        message = str(data or "")[:200]
    text = f"Kubernetes API answered {status} to {method} {path}" + (f": {message}" if message else "")
    if status == 404:
        return NotFound(text)
    if status == 409:
        return Conflict(text)
    if status == 429:
        wait = retry_after_seconds(headers or {})
        advice = f"; it asks to retry after {wait:.0f} s" if wait else ""
        return TargetError(f"Kubernetes API is throttling requests (429 to {method} {path}){advice}",
                           retry_after=wait)
    return TargetError(text)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
