"""Pod Security admission at the namespace's level (docs: "Pod Security Admission",
"Pod Security Standards").

`pod-security.kubernetes.io/enforce: restricted` refuses a pod that breaks the restricted profile
with 403 Forbidden naming every failed check; workload objects are admitted with a `Warning`
header, and their controller cannot create the pods (a `FailedCreate` event). `warn` only warns.
"""
from __future__ import annotations

from kubernetes import client as k8s

from .emulator import SimulatedController
from .emulator_fixtures import apply, namespace, raw, statefulset

PODS = "/api/v1/namespaces/demo/pods"
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}
HARDENED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"}}


def _pod(name: str, **container) -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "redis", "image": "redis:7.4",
                                                                 **container}]}}


def test_restricted_namespace_refuses_a_pod_that_breaks_the_profile(kube_client):
    namespace(kube_client, labels=RESTRICTED)
    status, body = raw(kube_client, "POST", PODS, _pod("plain"))
    assert status == 403 and body["reason"] == "Forbidden"
    assert body["message"].startswith('pods "plain" is forbidden: violates PodSecurity "restricted:latest": ')
    for check in ("allowPrivilegeEscalation != false", "unrestricted capabilities", "runAsNonRoot != true",
                  "seccompProfile"):
        assert check in body["message"]
    status, _ = raw(kube_client, "POST", PODS, _pod("hardened", securityContext=HARDENED))
    assert status == 201


def test_baseline_refuses_privileged_and_host_access(kube_client):
    namespace(kube_client, labels={"pod-security.kubernetes.io/enforce": "baseline"})
    status, body = raw(kube_client, "POST", PODS, _pod("root", securityContext={"privileged": True}))
    assert status == 403 and 'violates PodSecurity "baseline:latest": privileged' in body["message"]
    host = _pod("host")
    host["spec"]["hostNetwork"] = True
    assert raw(kube_client, "POST", PODS, host)[0] == 403
    assert raw(kube_client, "POST", PODS, _pod("plain"))[0] == 201  # baseline allows an ordinary pod


def test_privileged_or_unlabelled_namespaces_admit_anything(kube_client):
    namespace(kube_client)
    assert raw(kube_client, "POST", PODS, _pod("root", securityContext={"privileged": True}))[0] == 201


def test_a_statefulset_is_admitted_with_a_warning_and_its_pods_are_refused(kube_emulator, kube_client):
    namespace(kube_client, labels=RESTRICTED)
    response = k8s.AppsV1Api(kube_client).patch_namespaced_stateful_set(
        "web", "demo", statefulset(claims=False), field_manager="owner", _content_type="application/apply-patch+yaml",
        _preload_content=False)
    assert response.status == 201
    assert 'would violate PodSecurity "restricted:latest"' in response.headers.get("Warning", "")
    SimulatedController(kube_emulator.store).step()
    assert kube_emulator.store.all_of("Pod", "demo") == []
    event = kube_emulator.store.all_of("Event", "demo")[0]
    assert event["reason"] == "FailedCreate" and 'violates PodSecurity "restricted:latest"' in event["message"]


def test_warn_level_only_warns(kube_client):
    namespace(kube_client, labels={"pod-security.kubernetes.io/warn": "restricted"})
    response = k8s.CoreV1Api(kube_client).create_namespaced_pod("demo", _pod("plain"), _preload_content=False)
    assert response.status == 201 and "would violate PodSecurity" in response.headers.get("Warning", "")
    apply(kube_client, statefulset(claims=False), "owner")
