"""422 Invalid where a real API server refuses a write: immutable fields and names too long.

Checked against the API reference and apps/v1 validation: a StatefulSet update may change only
`replicas`, `ordinals`, `template`, `updateStrategy`, `persistentVolumeClaimRetentionPolicy` and
`minReadySeconds`; a Service name is a DNS-1035 label (at most 63 characters). A StatefulSet name
is a DNS subdomain, so one of 53+ characters is accepted, but the controller cannot create its pods:
their `controller-revision-hash` label (`<name>-<10-char hash>`) would pass 63 characters
(kubernetes/kubernetes#64023) and the pod create is refused with 422, reported as `FailedCreate`.
"""
from __future__ import annotations

import copy
import json

import pytest

from .emulator import SimulatedController
from .emulator_fixtures import apply, namespace, raw, statefulset

STS = "/apis/apps/v1/namespaces/demo/statefulsets"


@pytest.mark.parametrize("change", [
    lambda s: s["spec"].update(selector={"matchLabels": {"app": "other"}}),
    lambda s: s["spec"].update(serviceName="elsewhere"),
    lambda s: s["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"].update(storage="2Gi"),
    lambda s: s["spec"].update(podManagementPolicy="Parallel"),
], ids=["selector", "serviceName", "volumeClaimTemplates", "podManagementPolicy"])
def test_immutable_statefulset_fields_are_refused_with_422(kube_client, change):
    namespace(kube_client)
    manifest = statefulset()
    apply(kube_client, manifest, "tester")
    changed = copy.deepcopy(manifest)
    change(changed)
    if changed["spec"]["selector"]["matchLabels"]["app"] == "other":
        changed["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    status, body = raw(kube_client, "PATCH", f"{STS}/web", changed, content_type="application/apply-patch+yaml",
                       query=[("fieldManager", "tester"), ("force", "true")])
    assert status == 422, body
    assert body["reason"] == "Invalid" and body["message"].startswith(
        'StatefulSet.apps "web" is invalid: spec: Forbidden: updates to statefulset spec for fields other than')
    assert body["details"]["causes"][0]["field"] == "spec"
    status, body = raw(kube_client, "GET", f"{STS}/web")
    assert body["spec"]["serviceName"] == "web" and body["metadata"]["generation"] == 1  # nothing changed


def test_mutable_statefulset_fields_change(kube_client):
    namespace(kube_client)
    manifest = statefulset()
    apply(kube_client, manifest, "tester")
    manifest["spec"].update(replicas=3, updateStrategy={"type": "OnDelete"}, minReadySeconds=5)
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "redis:8.0"
    stored = apply(kube_client, manifest, "tester")
    assert stored["spec"]["replicas"] == 3 and stored["metadata"]["generation"] == 2


def test_a_service_name_over_63_characters_is_refused(kube_client):
    namespace(kube_client)
    status, body = raw(kube_client, "POST", "/api/v1/namespaces/demo/services",
                       {"metadata": {"name": "s" * 64}, "spec": {"ports": [{"port": 1}]}})
    assert status == 422 and body["reason"] == "Invalid"
    assert "must be no more than 63 characters" in body["message"]
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    status, _ = raw(kube_client, "POST", "/api/v1/namespaces/demo/services",
                    {"metadata": {"name": "s" * 63}, "spec": {"ports": [{"port": 1}]}})
    assert status == 201
    status, body = raw(kube_client, "POST", "/api/v1/namespaces/demo/services",
                       {"metadata": {"name": "1cache"}, "spec": {"ports": [{"port": 1}]}})
    assert status == 422 and "DNS-1035" in body["message"]


def test_a_statefulset_name_over_52_characters_gets_no_pods(kube_emulator, kube_client):
    namespace(kube_client)
    name = "a" * 53
    apply(kube_client, statefulset(name), "tester")  # accepted, as by a real server
    SimulatedController(kube_emulator.store).step()
    assert kube_emulator.store.all_of("Pod", "demo") == []
    events = kube_emulator.store.all_of("Event", "demo")
    assert [e["reason"] for e in events] == ["FailedCreate"]
    assert f'create Pod {name}-0 in StatefulSet {name} failed error: Pod "{name}-0" is invalid: metadata.labels: ' \
        in events[0]["message"] and "must be no more than 63 characters" in events[0]["message"]
    apply(kube_client, statefulset("b" * 52), "tester")
    SimulatedController(kube_emulator.store).step()
    assert [p["metadata"]["name"] for p in kube_emulator.store.all_of("Pod", "demo")] == ["b" * 52 + "-0"]


def test_a_label_value_over_63_characters_is_refused(kube_client):
    namespace(kube_client)
    status, body = raw(kube_client, "POST", "/api/v1/namespaces/demo/configmaps",
                       {"metadata": {"name": "c", "labels": {"k": "v" * 64}}})
    assert status == 422 and body["details"]["causes"][0]["field"] == "metadata.labels"


def test_a_claim_spec_is_immutable_except_its_size(kube_client):
    namespace(kube_client)
    path = "/api/v1/namespaces/demo/persistentvolumeclaims"
    raw(kube_client, "POST", path, {"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    status, _ = raw(kube_client, "PATCH", f"{path}/data", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}},
                    content_type="application/merge-patch+json")
    assert status == 200
    status, body = raw(kube_client, "PATCH", f"{path}/data", {"spec": {"accessModes": ["ReadWriteMany"]}},
                       content_type="application/merge-patch+json")
    assert status == 422 and "spec is immutable after creation" in body["message"]


def test_unknown_fields_are_dropped_warned_about_or_refused(kube_client):
    """`fieldValidation`: Ignore, Warn (the default) or Strict (what kubectl sends)."""
    namespace(kube_client)
    manifest = statefulset(claims=False)
    manifest["spec"]["replicaz"] = 3
    manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    status, body = raw(kube_client, "POST", STS, manifest, query=[("fieldValidation", "Strict")])
    assert status == 400 and body["reason"] == "BadRequest"
    assert "cannot be handled as a StatefulSet: strict decoding error: " in body["message"]
    assert 'unknown field "spec.replicaz"' in body["message"]
    assert 'unknown field "spec.template.spec.containers[0].imagePullPolicyy"' in body["message"]
    response = kube_client.call_api(*kube_client.param_serialize(
        "POST", STS, body=manifest, auth_settings=["BearerToken"], header_params={"Content-Type": "application/json"}))
    response.read()
    assert response.status == 201
    assert 'unknown field "spec.replicaz"' in response.getheader("Warning")
    stored = json.loads(response.data)
    assert "replicaz" not in stored["spec"] and stored["spec"]["replicas"] == 1


def test_a_server_dry_run_defaults_and_validates_but_stores_nothing(kube_client):
    """`dryRun=All` (kubectl `--dry-run=server`): the answer a write would get, and no change."""
    namespace(kube_client)
    status, body = raw(kube_client, "POST", STS, statefulset(), query=[("dryRun", "All")])
    assert status == 201 and body["spec"]["podManagementPolicy"] == "OrderedReady"
    assert raw(kube_client, "GET", f"{STS}/web")[0] == 404
    status, body = raw(kube_client, "POST", "/api/v1/namespaces/demo/services", {"metadata": {"name": "s" * 64}},
                       query=[("dryRun", "All")])
    assert status == 422
