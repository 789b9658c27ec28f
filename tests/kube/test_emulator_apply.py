"""Server-side apply as the API server does it (docs: "Server-Side Apply", merge strategy).

Lists merge by their schema's `x-kubernetes-list-type`: containers, volumes and env by `name`,
container ports by `containerPort`+`protocol`, so entries another manager applied are kept;
a field another manager owns with a different value is a 409 conflict unless forced; fields a
manager stops applying are removed unless someone else owns them.
"""
from __future__ import annotations

import copy

from .emulator_fixtures import apply, namespace, raw, read, statefulset

STS = "/apis/apps/v1/namespaces/demo/statefulsets"


def _containers(obj: dict) -> dict[str, dict]:
    return {c["name"]: c for c in obj["spec"]["template"]["spec"]["containers"]}


def _partial(containers: list[dict], volumes: list[dict] | None = None) -> dict:
    """An apply configuration touching only the pod template's containers (and volumes)."""
    pod_spec: dict = {"containers": containers}
    if volumes:
        pod_spec["volumes"] = volumes
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "demo"},
            "spec": {"template": {"spec": pod_spec}}}


def test_list_map_keys_keep_other_managers_entries(kube_client):
    namespace(kube_client)
    manifest = statefulset(containers=[{"name": "redis", "image": "redis:7.4", "ports": [{"containerPort": 6379}],
                                        "env": [{"name": "A", "value": "1"}]}], claims=False)
    manifest["spec"]["template"]["spec"]["volumes"] = [{"name": "config", "emptyDir": {}}]
    apply(kube_client, manifest, "owner")
    sidecar = _partial([{"name": "exporter", "image": "exporter:1"},
                        {"name": "redis", "ports": [{"containerPort": 9121}], "env": [{"name": "B", "value": "2"}]}],
                       [{"name": "scratch", "emptyDir": {}}])
    stored = apply(kube_client, sidecar, "observability")
    containers = _containers(stored)
    assert set(containers) == {"redis", "exporter"}
    assert [p["containerPort"] for p in containers["redis"]["ports"]] == [6379, 9121]
    assert [e["name"] for e in containers["redis"]["env"]] == ["A", "B"]
    assert containers["redis"]["image"] == "redis:7.4"
    assert [v["name"] for v in stored["spec"]["template"]["spec"]["volumes"]] == ["config", "scratch"]
    # The first manager re-applies its own configuration: the other manager's entries stay.
    stored = apply(kube_client, manifest, "owner")
    assert set(_containers(stored)) == {"redis", "exporter"}
    assert [e["name"] for e in _containers(stored)["redis"]["env"]] == ["A", "B"]
    managers = {m["manager"]: m for m in stored["metadata"]["managedFields"]}
    assert set(managers) == {"owner", "observability"} and managers["owner"]["operation"] == "Apply"
    template = managers["observability"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]
    assert 'k:{"name":"exporter"}' in template["f:containers"]
    assert 'k:{"containerPort":9121,"protocol":"TCP"}' in template["f:containers"]['k:{"name":"redis"}']["f:ports"]


def test_a_port_without_protocol_matches_the_defaulted_tcp_entry(kube_client):
    namespace(kube_client)
    apply(kube_client, statefulset(claims=False), "owner")
    stored = apply(kube_client, _partial([{"name": "redis", "ports": [{"containerPort": 6379, "name": "redis"}]}]),
                   "namer")
    assert _containers(stored)["redis"]["ports"] == [{"containerPort": 6379, "protocol": "TCP", "name": "redis"}]


def test_setting_another_managers_field_is_a_conflict_unless_forced(kube_client):
    namespace(kube_client)
    manifest = statefulset(claims=False)
    apply(kube_client, manifest, "owner")
    other = _partial([{"name": "redis", "image": "redis:8.0"}])
    status, body = raw(kube_client, "PATCH", f"{STS}/web", other, content_type="application/apply-patch+yaml",
                       query=[("fieldManager", "intruder")])
    assert status == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "owner" using apps/v1: '
                               '.spec.template.spec.containers[name="redis"].image')
    assert _containers(read(kube_client, f"{STS}/web"))["redis"]["image"] == "redis:7.4"
    # Same value: shared ownership, no conflict.
    same = _partial([{"name": "redis", "image": "redis:7.4"}])
    assert raw(kube_client, "PATCH", f"{STS}/web", same, content_type="application/apply-patch+yaml",
               query=[("fieldManager", "sharer")])[0] == 200
    stored = apply(kube_client, other, "intruder", force=True)
    assert _containers(stored)["redis"]["image"] == "redis:8.0"
    # The owner lost the field: applying its old value now conflicts with the intruder.
    status, body = raw(kube_client, "PATCH", f"{STS}/web", manifest, content_type="application/apply-patch+yaml",
                       query=[("fieldManager", "owner")])
    assert status == 409 and 'conflict with "intruder"' in body["message"]


def test_an_update_by_another_client_takes_the_field(kube_client):
    """`kubectl scale` (an Update on the scale subresource) owns `replicas`; a later apply conflicts."""
    namespace(kube_client)
    manifest = statefulset(claims=False)
    apply(kube_client, manifest, "owner")
    status, _ = raw(kube_client, "PATCH", f"{STS}/web/scale", {"spec": {"replicas": 3}},
                    content_type="application/merge-patch+json", query=[("fieldManager", "kubectl-scale")])
    assert status == 200
    status, body = raw(kube_client, "PATCH", f"{STS}/web", manifest, content_type="application/apply-patch+yaml",
                       query=[("fieldManager", "owner")])
    assert status == 409 and body["details"]["causes"][0]["field"] == ".spec.replicas"
    assert apply(kube_client, manifest, "owner", force=True)["spec"]["replicas"] == 1


def test_fields_a_manager_stops_applying_are_removed_unless_others_own_them(kube_client):
    namespace(kube_client)
    manifest = statefulset(claims=False)
    manifest["metadata"]["labels"] = {"team": "a", "tier": "cache"}
    manifest["spec"]["template"]["spec"]["containers"].append({"name": "extra", "image": "busybox:1"})
    apply(kube_client, manifest, "owner")
    apply(kube_client, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {
        "name": "web", "namespace": "demo", "labels": {"tier": "cache"}}}, "labeller")
    smaller = copy.deepcopy(manifest)
    smaller["metadata"]["labels"] = {}
    smaller["spec"]["template"]["spec"]["containers"].pop()
    stored = apply(kube_client, smaller, "owner")
    assert stored["metadata"]["labels"] == {"tier": "cache"}  # "team" removed, "tier" kept for the labeller
    assert set(_containers(stored)) == {"redis"}


def test_an_identical_apply_changes_nothing(kube_client):
    namespace(kube_client)
    first = apply(kube_client, statefulset(), "owner")
    again = apply(kube_client, statefulset(), "owner")
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert again["metadata"]["generation"] == 1


def test_apply_needs_a_field_manager_and_the_right_kind(kube_client):
    namespace(kube_client)
    status, body = raw(kube_client, "PATCH", f"{STS}/web", statefulset(), content_type="application/apply-patch+yaml")
    assert status == 422 and "fieldManager" in body["message"]
    wrong = {**statefulset(), "kind": "Deployment"}
    status, _ = raw(kube_client, "PATCH", f"{STS}/web", wrong, content_type="application/apply-patch+yaml",
                    query=[("fieldManager", "x")])
    assert status == 400
