"""Deletion: finalizers and owner-reference garbage collection (docs: "Finalizers",
"Garbage Collection", "Use Cascading Deletion").

- An object with finalizers is not removed: it gets `deletionTimestamp` and stays until an update
  removes its last finalizer; no finalizer may be added meanwhile.
- `propagationPolicy=Background` (default) and `Foreground` delete the dependents; a dependent that
  still has another live owner survives, minus the reference to the deleted owner.
- A deleted namespace is `Terminating` (no new content) until the namespace controller has
  deleted what is in it, then it goes.
- `Orphan` keeps the dependents and removes their reference to the deleted owner; the StatefulSet
  controller then adopts pods matching a new StatefulSet's selector.
"""
from __future__ import annotations

import time

import pytest

from .emulator import SimulatedController
from .emulator_fixtures import apply, namespace, raw, read, statefulset

CM = "/api/v1/namespaces/demo/configmaps"
STS = "/apis/apps/v1/namespaces/demo/statefulsets"


def _owned_by(*owners: dict) -> list[dict]:
    return [{"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]}
            for o in owners]


def _create(kube_client, name: str, **metadata) -> dict:
    status, body = raw(kube_client, "POST", CM, {"metadata": {"name": name, **metadata}})
    assert status == 201, body
    return body


def test_finalizers_hold_an_object_until_removed(kube_client):
    namespace(kube_client)
    _create(kube_client, "held", finalizers=["example.com/cleanup"])
    status, body = raw(kube_client, "DELETE", f"{CM}/held")
    assert status == 200 and body["metadata"]["deletionTimestamp"]
    held = read(kube_client, f"{CM}/held")
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"] == ["example.com/cleanup"]
    status, body = raw(kube_client, "PATCH", f"{CM}/held", {"metadata": {"finalizers": ["a", "example.com/cleanup"]}},
                       content_type="application/merge-patch+json")
    assert status == 422 and "no new finalizers can be added" in body["message"]
    status, _ = raw(kube_client, "PATCH", f"{CM}/held", {"metadata": {"finalizers": None}},
                    content_type="application/merge-patch+json")
    assert status == 200
    assert raw(kube_client, "GET", f"{CM}/held")[0] == 404


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_dependents_are_collected(kube_client, policy):
    namespace(kube_client)
    owner = _create(kube_client, "owner")
    other = _create(kube_client, "other")
    _create(kube_client, "child", ownerReferences=_owned_by(owner))
    _create(kube_client, "grandchild", ownerReferences=_owned_by(read(kube_client, f"{CM}/child")))
    _create(kube_client, "shared", ownerReferences=_owned_by(owner, other))
    assert raw(kube_client, "DELETE", f"{CM}/owner", query=[("propagationPolicy", policy)])[0] == 200
    for gone in ("owner", "child", "grandchild"):
        assert raw(kube_client, "GET", f"{CM}/{gone}")[0] == 404
    shared = read(kube_client, f"{CM}/shared")
    assert [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["other"]


def test_orphan_keeps_dependents_and_drops_the_reference(kube_client):
    namespace(kube_client)
    owner = _create(kube_client, "owner")
    _create(kube_client, "child", ownerReferences=_owned_by(owner))
    status, _ = raw(kube_client, "DELETE", f"{CM}/owner", {"propagationPolicy": "Orphan"})
    assert status == 200
    assert "ownerReferences" not in read(kube_client, f"{CM}/child")["metadata"]


def test_orphaned_pods_are_adopted_by_a_new_statefulset(kube_emulator, kube_client):
    namespace(kube_client)
    controller = SimulatedController(kube_emulator.store)
    apply(kube_client, statefulset(replicas=2), "owner")
    controller.step()
    pods = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube_emulator.store.all_of("Pod", "demo")}
    raw(kube_client, "DELETE", f"{STS}/web", query=[("propagationPolicy", "Orphan")])
    assert all("ownerReferences" not in p["metadata"] for p in kube_emulator.store.all_of("Pod", "demo"))
    recreated = apply(kube_client, statefulset(replicas=2), "owner")
    controller.step()
    after = kube_emulator.store.all_of("Pod", "demo")
    assert {p["metadata"]["name"]: p["metadata"]["uid"] for p in after} == pods  # same pods, not replaced
    assert {p["metadata"]["ownerReferences"][0]["uid"] for p in after} == {recreated["metadata"]["uid"]}


def test_a_namespace_terminates_then_goes_with_what_is_in_it(kube_client):
    namespace(kube_client)
    _create(kube_client, "inside")
    status, body = raw(kube_client, "DELETE", "/api/v1/namespaces/demo")
    assert status == 200 and body["status"]["phase"] == "Terminating" and body["metadata"]["deletionTimestamp"]
    status, body = raw(kube_client, "POST", CM, {"metadata": {"name": "late"}})
    assert status in (403, 404)  # 403 "being terminated" while it lasts, 404 once gone
    deadline = time.monotonic() + 10
    while raw(kube_client, "GET", "/api/v1/namespaces/demo")[0] != 404 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert raw(kube_client, "GET", "/api/v1/namespaces/demo")[0] == 404
    assert raw(kube_client, "GET", f"{CM}/inside")[0] == 404


def test_a_running_pod_terminates_gracefully_until_its_kubelet_confirms(kube_emulator, kube_client):
    """Docs "Termination of Pods": a bound pod gets `deletionTimestamp` and its grace period, and goes
    when the kubelet has stopped it; an unbound one, or `gracePeriodSeconds=0`, goes at once."""
    namespace(kube_client)
    controller = SimulatedController(kube_emulator.store)
    apply(kube_client, statefulset(replicas=2, claims=False), "owner")
    controller.step()
    pods = "/api/v1/namespaces/demo/pods"
    uid = read(kube_client, f"{pods}/web-0")["metadata"]["uid"]
    status, body = raw(kube_client, "DELETE", f"{pods}/web-0")
    assert status == 200 and body["metadata"]["deletionGracePeriodSeconds"] == 30
    terminating = read(kube_client, f"{pods}/web-0")
    assert terminating["metadata"]["deletionTimestamp"] and terminating["metadata"]["uid"] == uid
    controller.step()  # the kubelet confirms; the StatefulSet controller re-creates the pod
    assert read(kube_client, f"{pods}/web-0")["metadata"]["uid"] != uid
    assert raw(kube_client, "DELETE", f"{pods}/web-1", {"gracePeriodSeconds": 0})[0] == 200
    assert raw(kube_client, "GET", f"{pods}/web-1")[0] == 404
    raw(kube_client, "POST", pods, {"metadata": {"name": "unbound"}, "spec": {"containers": [
        {"name": "c", "image": "busybox:1"}]}})
    assert raw(kube_client, "DELETE", f"{pods}/unbound")[0] == 200
    assert raw(kube_client, "GET", f"{pods}/unbound")[0] == 404
