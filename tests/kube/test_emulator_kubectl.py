"""The standalone emulator with the real `kubectl` (v1.32): discovery, OpenAPI v3, Tables, apply.

Starts `python -m tests.kube.emulator --port 0` as a person would, then drives `kubectl` as a
subprocess: `apply --server-side`, `get` (Table output, `-A`, short names), `get -o jsonpath`,
`delete`, and a server-side apply conflict.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .kubectl import kubectl

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")

MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache, namespace: demo}
spec:
  serviceName: cache
  replicas: 2
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers:
      - name: redis
        image: redis:7.4
        ports: [{containerPort: 6379}]
---
apiVersion: v1
kind: Service
metadata: {name: cache, namespace: demo}
spec:
  selector: {app: cache}
  ports: [{port: 6379}]
"""


@pytest.fixture
def standalone(tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen([sys.executable, "-m", "tests.kube.emulator", "--port", "0", "--kubeconfig",
                                str(kubeconfig)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Kubernetes API emulator on http://127.0.0.1:"), first_line
        assert kubeconfig.stat().st_mode & 0o777 == 0o600
        yield kubeconfig, tmp_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=20) == 0  # Ctrl-C stops it cleanly
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()


def test_kubectl_applies_gets_and_deletes(standalone):
    applied = kubectl(standalone, "apply", "--server-side", "-f", "-", stdin=MANIFESTS)
    assert applied.stdout.split("\n")[:3] == ["namespace/demo serverside-applied",
                                              "statefulset.apps/cache serverside-applied",
                                              "service/cache serverside-applied"]
    listing = kubectl(standalone, "get", "statefulsets,pods,svc", "-A").stdout
    assert "statefulset.apps/cache   2/2" in listing
    assert "pod/cache-0" in listing and "pod/cache-1" in listing and "Running" in listing
    assert "service/cache" in listing and "6379/TCP" in listing
    assert kubectl(standalone, "get", "sts", "-n", "demo", "cache", "-o",
                   "jsonpath={.spec.template.spec.containers[0].imagePullPolicy}").stdout == "IfNotPresent"
    assert kubectl(standalone, "get", "pods", "-n", "demo", "-o",
                   "jsonpath={.items[*].metadata.name}").stdout == "cache-0 cache-1"
    again = kubectl(standalone, "apply", "--server-side", "-f", "-", stdin=MANIFESTS)
    assert again.returncode == 0
    kubectl(standalone, "scale", "-n", "demo", "statefulset/cache", "--replicas=3")
    conflict = kubectl(standalone, "apply", "--server-side", "-f", "-", stdin=MANIFESTS, check=False)
    assert conflict.returncode != 0 and "conflict" in conflict.stderr and ".spec.replicas" in conflict.stderr
    kubectl(standalone, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=MANIFESTS)
    assert kubectl(standalone, "get", "sts", "-n", "demo", "cache", "-o", "jsonpath={.spec.replicas}").stdout == "2"
    deleted = kubectl(standalone, "delete", "-n", "demo", "statefulset", "cache")
    assert 'statefulset.apps "cache" deleted' in deleted.stdout
    assert kubectl(standalone, "get", "pods", "-n", "demo", "-o", "name").stdout == ""
    missing = kubectl(standalone, "get", "sts", "-n", "demo", "cache", check=False)
    assert missing.returncode != 0 and 'statefulsets.apps "cache" not found' in missing.stderr


def test_kubectl_client_side_apply_set_image_label_and_patch(standalone):
    kubectl(standalone, "apply", "-f", "-", stdin=MANIFESTS)
    changed = MANIFESTS.replace("replicas: 2", "replicas: 1")
    assert "statefulset.apps/cache configured" in kubectl(standalone, "apply", "-f", "-", stdin=changed).stdout
    assert "statefulset.apps/cache unchanged" in kubectl(standalone, "apply", "-f", "-", stdin=changed).stdout
    kubectl(standalone, "set", "image", "-n", "demo", "statefulset/cache", "redis=redis:8.0")
    kubectl(standalone, "label", "-n", "demo", "statefulset/cache", "tier=cache")
    kubectl(standalone, "patch", "-n", "demo", "statefulset/cache", "--type=json",
            "-p", '[{"op": "replace", "path": "/spec/replicas", "value": 3}]')
    got = kubectl(standalone, "get", "sts", "-n", "demo", "cache", "-o", "jsonpath={.spec.replicas} "
                  "{.spec.template.spec.containers[*].image} {.metadata.labels.tier}").stdout
    assert got == "3 redis:8.0 cache"
    assert kubectl(standalone, "get", "sts", "-n", "demo", "-l", "tier=cache", "-o", "name").stdout.strip() == \
        "statefulset.apps/cache"
    # The namespace goes first: Terminating for a second, then emptied (whatever kubectl deleted itself by then).
    kubectl(standalone, "delete", "--ignore-not-found", "-f", "-", stdin=MANIFESTS)
    kubectl(standalone, "wait", "--for=delete", "namespace/demo", "--timeout=20s")  # a watch
    assert kubectl(standalone, "get", "ns", "demo", check=False).returncode != 0
