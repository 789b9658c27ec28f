"""resourceVersion: optimistic concurrency (API concepts, "Resource versions" and "Conflicts").

A write carrying a stale `metadata.resourceVersion` (PUT, patch, apply) or a DELETE with stale
`preconditions` is refused with 409 Conflict and changes nothing; a write that changes nothing keeps
the version; every change bumps it, and `generation` follows changes to the spec only.
"""
from __future__ import annotations

from .emulator_fixtures import APPLY, apply, namespace, raw, read, statefulset

CM = "/api/v1/namespaces/demo/configmaps"


def _config_map(kube_client) -> dict:
    namespace(kube_client)
    status, created = raw(kube_client, "POST", CM, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    assert status == 201
    return created


def test_a_stale_put_is_a_conflict(kube_client):
    created = _config_map(kube_client)
    first = {**created, "data": {"a": "2"}}
    status, updated = raw(kube_client, "PUT", f"{CM}/c", first)
    assert status == 200 and int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    stale = {**created, "data": {"a": "3"}}  # still carries the first resourceVersion
    status, body = raw(kube_client, "PUT", f"{CM}/c", stale)
    assert status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified; please apply your changes to the latest version" in body["message"]
    assert read(kube_client, f"{CM}/c")["data"] == {"a": "2"}


def test_a_patch_or_apply_with_a_stale_version_is_a_conflict(kube_client):
    created = _config_map(kube_client)
    raw(kube_client, "PATCH", f"{CM}/c", {"data": {"a": "2"}}, content_type="application/merge-patch+json")
    old = created["metadata"]["resourceVersion"]
    status, _ = raw(kube_client, "PATCH", f"{CM}/c", {"metadata": {"resourceVersion": old}, "data": {"a": "3"}},
                    content_type="application/merge-patch+json")
    assert status == 409
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": old},
              "data": {"b": "1"}}
    status, _ = raw(kube_client, "PATCH", f"{CM}/c", config, content_type=APPLY, query=[("fieldManager", "x")])
    assert status == 409
    assert read(kube_client, f"{CM}/c")["data"] == {"a": "2"}


def test_delete_preconditions(kube_client):
    created = _config_map(kube_client)
    status, body = raw(kube_client, "DELETE", f"{CM}/c", {"preconditions": {"resourceVersion": "1"}})
    assert status == 409 and "Precondition failed" in body["message"]
    status, _ = raw(kube_client, "DELETE", f"{CM}/c", {"preconditions": {"uid": "someone-else"}})
    assert status == 409
    status, _ = raw(kube_client, "DELETE", f"{CM}/c", {"preconditions": {
        "uid": created["metadata"]["uid"], "resourceVersion": created["metadata"]["resourceVersion"]}})
    assert status == 200
    assert raw(kube_client, "GET", f"{CM}/c")[0] == 404


def test_versions_and_generation(kube_client):
    namespace(kube_client)
    first = apply(kube_client, statefulset(), "owner")
    labelled = statefulset()
    labelled["metadata"]["labels"] = {"team": "a"}
    second = apply(kube_client, labelled, "owner")
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert second["metadata"]["generation"] == 1  # metadata only: the spec did not change
    scaled = {**labelled, "spec": {**labelled["spec"], "replicas": 2}}
    assert apply(kube_client, scaled, "owner")["metadata"]["generation"] == 2
    status, created_again = raw(kube_client, "POST", "/apis/apps/v1/namespaces/demo/statefulsets", statefulset())
    assert status == 409 and created_again["reason"] == "AlreadyExists"
