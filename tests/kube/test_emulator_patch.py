"""PATCH flavours (API concepts "Patch operations"; kubectl's `patch --type strategic|merge|json`).

Strategic merge patch merges lists whose schema has `x-kubernetes-patch-strategy: merge` by their
`x-kubernetes-patch-merge-key` (containers by `name`: `kubectl set image` sends one container);
JSON merge patch replaces lists; JSON patch applies RFC 6902 operations.
"""
from __future__ import annotations

from .emulator_fixtures import apply, namespace, raw, read, statefulset

STS = "/apis/apps/v1/namespaces/demo/statefulsets"
SMP = "application/strategic-merge-patch+json"


def _two_containers(kube_client) -> None:
    namespace(kube_client)
    apply(kube_client, statefulset(containers=[{"name": "redis", "image": "redis:7.4"},
                                               {"name": "exporter", "image": "exporter:1"}], claims=False), "owner")


def _images(obj: dict) -> dict[str, str]:
    return {c["name"]: c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}


def test_strategic_merge_patch_merges_containers_by_name(kube_client):
    _two_containers(kube_client)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "redis:8.0"}]}}}}
    status, body = raw(kube_client, "PATCH", f"{STS}/web", patch, content_type=SMP)
    assert status == 200 and _images(body) == {"redis": "redis:8.0", "exporter": "exporter:1"}
    delete = {"spec": {"template": {"spec": {"containers": [{"name": "exporter", "$patch": "delete"}]}}}}
    status, body = raw(kube_client, "PATCH", f"{STS}/web", delete, content_type=SMP)
    assert status == 200 and _images(body) == {"redis": "redis:8.0"}
    labels = {"metadata": {"finalizers": ["a"]}}
    raw(kube_client, "PATCH", f"{STS}/web", labels, content_type=SMP)
    raw(kube_client, "PATCH", f"{STS}/web", {"metadata": {"finalizers": ["b"]}}, content_type=SMP)
    assert read(kube_client, f"{STS}/web")["metadata"]["finalizers"] == ["a", "b"]  # a merged set of strings


def test_json_merge_patch_replaces_lists(kube_client):
    _two_containers(kube_client)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "redis:8.0"}]}}}}
    status, body = raw(kube_client, "PATCH", f"{STS}/web", patch, content_type="application/merge-patch+json")
    assert status == 200 and _images(body) == {"redis": "redis:8.0"}


def test_json_patch_operations(kube_client):
    _two_containers(kube_client)
    ops = [{"op": "test", "path": "/spec/replicas", "value": 1},
           {"op": "replace", "path": "/spec/replicas", "value": 3},
           {"op": "add", "path": "/metadata/labels", "value": {"team": "a"}},
           {"op": "remove", "path": "/spec/template/spec/containers/1"}]
    status, body = raw(kube_client, "PATCH", f"{STS}/web", ops, content_type="application/json-patch+json")
    assert status == 200, body
    assert body["spec"]["replicas"] == 3 and body["metadata"]["labels"] == {"team": "a"}
    assert _images(body) == {"redis": "redis:7.4"}
    status, body = raw(kube_client, "PATCH", f"{STS}/web", [{"op": "test", "path": "/spec/replicas", "value": 1}],
                       content_type="application/json-patch+json")
    assert status == 422
    assert read(kube_client, f"{STS}/web")["spec"]["replicas"] == 3
