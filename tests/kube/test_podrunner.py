"""The pod runner itself (tests/kube/podrunner): pods in Linux namespaces with volumes, env, identity, DNS,
probes, hooks, Services and node events, straight against the emulator's store (no control plane)."""
from __future__ import annotations

import base64
import time

import pytest

from .emulator import SimulatedController, _pod_ready
from .podrunner import PodRunner, unavailable

NS = "t"


@pytest.fixture
def pods(kube_emulator):
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    runner = PodRunner(kube_emulator.store, SimulatedController(kube_emulator.store), restart_backoff=1.0).start()
    kube_emulator.store.put_kind("Namespace", {"metadata": {"name": NS}})
    try:
        yield runner
    finally:
        runner.stop()


def put(runner: PodRunner, kind: str, name: str, **body) -> dict:
    return runner.store.put_kind(kind, {"metadata": {"name": name, "namespace": NS, **body.pop("metadata", {})},
                                        **body})


def sh(runner: PodRunner, pod: str, script: str) -> str:
    result = runner.exec(NS, pod, ["sh", "-c", script])
    assert result.returncode == 0, result
    return result.stdout.strip()


def sleeper(**container) -> dict:
    return {"name": "main", "image": "redis:7.2", "command": ["sleep", "3600"], **container}


def test_volumes_environment_identity_and_names(pods):
    put(pods, "Secret", "creds", data={"password": base64.b64encode(b"s3cret").decode()})
    put(pods, "ConfigMap", "conf", data={"app.conf": "answer 42\n", "level": "debug"})
    put(pods, "PersistentVolumeClaim", "data-x", spec={}, status={"phase": "Bound"})
    put(pods, "Service", "peers", spec={"clusterIP": "None", "selector": {"app": "x"}, "publishNotReadyAddresses": True,
                                        "ports": [{"port": 6379}]})
    pod_spec = {
        "hostname": "x", "subdomain": "peers", "terminationGracePeriodSeconds": 2,
        "securityContext": {"runAsUser": 999, "fsGroup": 2000},
        "containers": [sleeper(
            command=["sh", "-c", 'echo "$GREETING" >> /data/starts; exec sleep 3600'],
            env=[{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                 {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "conf", "key": "level"}}},
                 {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                 {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                 {"name": "GREETING", "value": "hello $(POD)"}],
            volumeMounts=[{"name": "conf", "mountPath": "/etc/app"}, {"name": "creds", "mountPath": "/etc/creds"},
                          {"name": "scratch", "mountPath": "/scratch"}, {"name": "data", "mountPath": "/data"}],
            lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "echo stopping >> /data/starts"]}}})],
        "volumes": [{"name": "conf", "configMap": {"name": "conf", "defaultMode": 0o640}},
                    {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                    {"name": "scratch", "emptyDir": {}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "data-x"}}],
    }
    put(pods, "Pod", "x", metadata={"labels": {"app": "x"}}, spec=pod_spec)
    pod = pods.wait_ready(NS, "x", 30)
    assert sh(pods, "x", "id -u; id -G") == "999\n0 2000"
    # Each name is a symlink through ..data, as the kubelet makes them: -L shows the file's own mode.
    assert sh(pods, "x", "stat -L -c '%a %g' /etc/app/app.conf /etc/creds/password /data") == \
        "640 2000\n440 2000\n2775 2000"
    assert sh(pods, "x", "readlink /etc/creds/password") == "..data/password"
    assert sh(pods, "x", "cat /etc/app/app.conf /etc/creds/password") == "answer 42\ns3cret"
    assert sh(pods, "x", 'echo "$PASSWORD $LEVEL $POD $IP"') == f"s3cret debug x {pod['status']['podIP']}"
    assert sh(pods, "x", "hostname; getent hosts x.peers.t.svc.cluster.local | cut -d' ' -f1") == \
        f"x\n{pod['status']['podIP']}"
    assert sh(pods, "x", "echo 1 > /scratch/f; ls /work | wc -l") == "0"  # the host's files stay hidden

    pods.delete_pod(NS, "x")  # preStop, SIGTERM (sleep as PID 1 ignores it), SIGKILL after the 2 s grace period
    pods.wait_for("the pod to stop", lambda: not pods.workers, 30)
    put(pods, "Pod", "x", metadata={"labels": {"app": "x"}}, spec=pod_spec)
    pods.wait_ready(NS, "x", 30)
    # The claim's folder outlived the pod: the recreated pod finds what the first one and its preStop hook wrote.
    assert sh(pods, "x", "cat /data/starts") == "hello x\nstopping\nhello x"
    assert sh(pods, "x", "ls /scratch | wc -l") == "0"  # emptyDir is per pod

    pods.delete_pod(NS, "x")
    pods.store.delete_kind("PersistentVolumeClaim", NS, "data-x")
    pods.store.delete_kind("Service", NS, "peers")
    claim = pods.workdir / "claims" / NS / "data-x"
    pods.wait_for("the claim's data and the Endpoints to go",
                  lambda: not claim.exists() and pods.store.find("Endpoints", NS, "peers") is None, 30)


def test_probes_drive_readiness_endpoints_dns_and_liveness_restarts(pods):
    put(pods, "Service", "web", spec={"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})
    put(pods, "Service", "web-headless", spec={"clusterIP": "None", "selector": {"app": "web"},
                                               "ports": [{"port": 8080}]})
    probe = {"periodSeconds": 1, "failureThreshold": 2}
    container = sleeper(readinessProbe={"exec": {"command": ["test", "-f", "/tmp/ready"]}, **probe},
                        livenessProbe={"exec": {"command": ["test", "!", "-f", "/tmp/sick"]}, **probe})
    put(pods, "Pod", "w", metadata={"labels": {"app": "web"}},
        spec={"terminationGracePeriodSeconds": 1, "containers": [container]})
    pods.wait_for("the pod to run", lambda: (pods.store.find("Endpoints", NS, "web") or {}).get("subsets"), 30)
    endpoints = pods.store.find("Endpoints", NS, "web")
    assert [a["targetRef"]["name"] for a in endpoints["subsets"][0]["notReadyAddresses"]] == ["w"]
    assert "web-headless.t.svc.cluster.local" not in pods.dns.records  # not ready: not published

    sh(pods, "w", "touch /tmp/ready")
    pod = pods.wait_ready(NS, "w", 10)
    pods.wait_for("the endpoint to be ready",
                  lambda: "addresses" in pods.store.find("Endpoints", NS, "web")["subsets"][0], 10)
    pods.wait_for("the DNS record", lambda: pods.dns.records.get("web-headless.t.svc.cluster.local")
                  == [pod["status"]["podIP"]], 10)

    sh(pods, "w", "touch /tmp/sick")
    restarted = pods.wait_for("a liveness restart", lambda: (pods.store.find("Pod", NS, "w")["status"]
                              ["containerStatuses"][0]["restartCount"] == 1) and pods.store.find("Pod", NS, "w"), 20)
    assert not _pod_ready(restarted)  # a fresh container: /tmp is empty again, so not ready


def test_oom_kill_drain_and_lost_node(pods):
    labels = {"app": "spread"}
    anti_affinity = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]}}
    put(pods, "StatefulSet", "s", spec={
        "replicas": 3, "serviceName": "s", "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"terminationGracePeriodSeconds": 0, "affinity": anti_affinity,
                              "containers": [sleeper()]}}})
    for i in range(3):
        pods.wait_ready(NS, f"s-{i}", 30)
    nodes = {f"s-{i}": pods.store.find("Pod", NS, f"s-{i}")["spec"]["nodeName"] for i in range(3)}
    assert sorted(nodes.values()) == ["node-0", "node-1", "node-2"]

    pods.oom_kill(NS, "s-0")
    status = pods.wait_for("the OOM kill to show", lambda: (s := pods.store.find("Pod", NS, "s-0")["status"]
                           ["containerStatuses"][0])["restartCount"] == 1 and s, 20)
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert status["lastState"]["terminated"]["exitCode"] == 137

    uid = pods.store.find("Pod", NS, "s-1")["metadata"]["uid"]
    assert pods.drain(nodes["s-1"]) == ["s-1"]
    # Recreated by the StatefulSet, but nowhere to go: its node is cordoned, the others hold its peers.
    recreated = pods.wait_for("the recreated pod to be refused", lambda: (p := pods.store.find("Pod", NS, "s-1"))
                              and p["metadata"]["uid"] != uid and p.get("status", {}).get("conditions") and p, 20)
    assert recreated["status"]["conditions"][0]["reason"] == "Unschedulable"

    assert pods.lose_node(nodes["s-2"]) == ["s-2"]
    lost = pods.store.find("Pod", NS, "s-2")
    assert {c["type"]: c["status"] for c in lost["status"]["conditions"]}["Ready"] == "Unknown"
    time.sleep(1)
    assert pods.store.find("Pod", NS, "s-2")["metadata"]["uid"] == lost["metadata"]["uid"]  # not replaced
    assert pods.errors == []
