"""Small builders shared by the emulator's own tests (tests/kube/test_emulator_*.py)."""
from __future__ import annotations

import json

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

APPLY = "application/apply-patch+yaml"


def namespace(api_client: k8s.ApiClient, name: str = "demo", labels: dict | None = None) -> None:
    k8s.CoreV1Api(api_client).create_namespace({"metadata": {"name": name, "labels": labels or {}}})


def statefulset(name: str = "web", *, containers: list[dict] | None = None, claims: bool = True, **spec) -> dict:
    """A StatefulSet manifest as a user writes it: no server-side defaults."""
    manifest = {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": "demo"},
        "spec": {
            "serviceName": name, "replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers or [
                {"name": "redis", "image": "redis:7.4", "ports": [{"containerPort": 6379}],
                 "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}}}]}},
            **spec,
        },
    }
    if claims:
        manifest["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    return manifest


def apply(api_client: k8s.ApiClient, manifest: dict, manager: str, *, force: bool = False) -> dict:
    """Server-side apply through the official client (PATCH, application/apply-patch+yaml)."""
    apps = k8s.AppsV1Api(api_client)
    core = k8s.CoreV1Api(api_client)
    meta = manifest["metadata"]
    kwargs = {"field_manager": manager, "force": force, "_content_type": APPLY, "_preload_content": False}
    if manifest["kind"] == "StatefulSet":
        response = apps.patch_namespaced_stateful_set(meta["name"], meta["namespace"], manifest, **kwargs)
    elif manifest["kind"] == "Service":
        response = core.patch_namespaced_service(meta["name"], meta["namespace"], manifest, **kwargs)
    elif manifest["kind"] == "ConfigMap":
        response = core.patch_namespaced_config_map(meta["name"], meta["namespace"], manifest, **kwargs)
    else:
        raise ValueError(manifest["kind"])
    return json.loads(response.data)


def raw(api_client: k8s.ApiClient, method: str, path: str, body: dict | None = None, *,
        content_type: str = "application/json", query: list | None = None) -> tuple[int, dict]:
    """A request on a REST path as plain dicts (status code, decoded body), errors included."""
    try:
        response = api_client.call_api(*api_client.param_serialize(
            method, path, query_params=query or [], body=body, auth_settings=["BearerToken"],
            header_params={"Content-Type": content_type, "Accept": "application/json"}))
        response.read()
        return response.status, json.loads(response.data or b"{}")
    except ApiException as exc:
        return exc.status, json.loads(exc.body or b"{}")


def read(api_client: k8s.ApiClient, path: str) -> dict:
    status, body = raw(api_client, "GET", path)
    assert status == 200, body
    return body
