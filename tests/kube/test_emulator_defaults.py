"""Defaulting: the fields a real v1.32 API server adds to what a client sends.

Checked against pkg/apis/core/v1/defaults.go and pkg/apis/apps/v1/defaults.go (Kubernetes 1.32)
and the API reference: e.g. `imagePullPolicy` "Defaults to Always if :latest tag is specified, or
IfNotPresent otherwise"; probe `timeoutSeconds` 1, `periodSeconds` 10, `successThreshold` 1,
`failureThreshold` 3; `terminationMessagePath` /dev/termination-log.
"""
from __future__ import annotations

from .emulator_fixtures import apply, namespace, raw, read, statefulset

STS = "/apis/apps/v1/namespaces/demo/statefulsets"


def test_statefulset_gets_the_defaults_a_real_server_adds(kube_client):
    namespace(kube_client)
    apply(kube_client, statefulset(), "tester")
    spec = read(kube_client, f"{STS}/web")["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    claim = spec["volumeClaimTemplates"][0]
    assert (claim["apiVersion"], claim["kind"]) == ("v1", "PersistentVolumeClaim")
    assert claim["spec"]["volumeMode"] == "Filesystem" and claim["status"] == {"phase": "Pending"}
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["dnsPolicy"], pod["schedulerName"]) == \
        ("Always", "ClusterFirst", "default-scheduler")
    assert pod["terminationGracePeriodSeconds"] == 30 and pod["securityContext"] == {}
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["ports"] == [{"containerPort": 6379, "protocol": "TCP"}]
    probe = container["readinessProbe"]
    assert (probe["timeoutSeconds"], probe["periodSeconds"], probe["successThreshold"], probe["failureThreshold"]) \
        == (1, 10, 1, 3)


def test_image_pull_policy_follows_the_tag(kube_client):
    namespace(kube_client)
    containers = [{"name": n, "image": image} for n, image in
                  (("a", "redis"), ("b", "redis:latest"), ("c", "redis:7.4"), ("d", "redis@sha256:" + "0" * 64),
                   ("e", "registry:5000/redis"))]
    apply(kube_client, statefulset(containers=containers, claims=False), "tester")
    got = {c["name"]: c["imagePullPolicy"]
           for c in read(kube_client, f"{STS}/web")["spec"]["template"]["spec"]["containers"]}
    assert got == {"a": "Always", "b": "Always", "c": "IfNotPresent", "d": "IfNotPresent", "e": "Always"}


def test_an_explicit_value_is_never_overwritten(kube_client):
    namespace(kube_client)
    manifest = statefulset(containers=[{"name": "redis", "image": "redis:7.4", "imagePullPolicy": "Never",
                                        "livenessProbe": {"tcpSocket": {"port": 6379}, "periodSeconds": 3}}],
                           podManagementPolicy="Parallel", updateStrategy={"type": "OnDelete"})
    apply(kube_client, manifest, "tester")
    spec = read(kube_client, f"{STS}/web")["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "Never" and container["livenessProbe"]["periodSeconds"] == 3
    assert spec["podManagementPolicy"] == "Parallel" and spec["updateStrategy"] == {"type": "OnDelete"}


def test_service_and_secret_defaults(kube_client):
    namespace(kube_client)
    status, service = raw(kube_client, "POST", "/api/v1/namespaces/demo/services", {
        "metadata": {"name": "cache"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 6379}]}})
    assert status == 201
    spec = service["spec"]
    assert (spec["type"], spec["sessionAffinity"], spec["ipFamilyPolicy"], spec["ipFamilies"]) == \
        ("ClusterIP", "None", "SingleStack", ["IPv4"])
    assert spec["ports"] == [{"port": 6379, "protocol": "TCP", "targetPort": 6379}]
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    status, secret = raw(kube_client, "POST", "/api/v1/namespaces/demo/secrets", {"metadata": {"name": "s"}})
    assert status == 201 and secret["type"] == "Opaque"


def test_claims_get_the_default_storage_class(kube_client):
    namespace(kube_client)
    raw(kube_client, "POST", "/apis/storage.k8s.io/v1/storageclasses", {
        "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "example.com/csi"})
    status, claim = raw(kube_client, "POST", "/api/v1/namespaces/demo/persistentvolumeclaims", {
        "metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                               "resources": {"requests": {"storage": "1Gi"}}}})
    assert status == 201
    assert claim["spec"]["storageClassName"] == "standard" and claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["status"] == {"phase": "Pending"}
