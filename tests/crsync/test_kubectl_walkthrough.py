"""The seed walkthrough with the real `kubectl` (v1.32) against the API server emulator, twice:

- against the standalone emulator (`python -m tests.kube.emulator --port 0`, a separate process, as a
  person starts it), pods simulated: the password is checked against the stored one and the new
  memorySize in the rendered redis.conf;
- against an in-process emulator whose pods run for real (tests/kube/podrunner; needs root): the
  password from `kubectl get secret` opens the database from a client pod (AUTH + INFO), and INFO
  shows the new maxmemory after `kubectl apply` of a changed memorySize.

The control plane runs in this process: the watcher (`manage.py watch_targets`' TargetWatcher) with
in-process reconciles and a periodic pass every 2 s standing in for Celery beat. Every step is a
`kubectl` subprocess; the dashboard's database page is checked along the way.
"""
from __future__ import annotations

import base64
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from django.db import OperationalError

from core.errors import TargetError
from core.quantity import parse_memory
from databases.models import Database
from targets.models import Target
from tests.kube.kubectl import kubectl
from timeline.models import Event

from .waiting import eventually

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")]

ROOT = Path(__file__).resolve().parents[2]
REDB = """apiVersion: app.redislabs.com/v1alpha1
kind: RedisEnterpriseDatabase
metadata:
  name: mydb
spec:
  memorySize: {memory}
  shardCount: 1
"""
STORAGE_CLASS = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
provisioner: kubernetes.io/no-provisioner
"""


@pytest.fixture
def standalone(tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen([sys.executable, "-m", "tests.kube.emulator", "--port", "0", "--kubeconfig",
                                str(kubeconfig)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Kubernetes API emulator on http://127.0.0.1:"), first_line
        yield kubeconfig, tmp_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()


@pytest.fixture
def definitions(standalone):
    """Step 1: the control plane's CRDs, applied with kubectl (server-side: they are large)."""
    crds = kubectl(standalone, "apply", "--server-side", "-f", str(ROOT / "deploy" / "kubernetes" / "crds"))
    assert "redisenterpriseclusters.app.redislabs.com serverside-applied" in crds.stdout
    kubectl(standalone, "apply", "-f", "-", stdin=STORAGE_CLASS)  # what a cluster's default class would be
    return standalone


@contextlib.contextmanager
def running_control_plane(target: Target):
    """The watcher and a periodic pass, as `make run` runs them, reconciling in this process."""
    from engine.sweep import reconcile_everything
    from kube.crsync.watch import TargetWatcher

    watcher = TargetWatcher(target).start()
    assert watcher.wait_ready(30)
    stop = threading.Event()

    def beat():
        while not stop.wait(2.0):
            try:
                reconcile_everything()
            except (TargetError, OperationalError):
                pass  # the next pass tries again, as beat's next run would

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        stop.set()
        thread.join(60)
        watcher.close(timeout=10)


@pytest.fixture
def control_plane(definitions, settings):
    settings.CONTROLPLANE_RECONCILE_MODE = "inline"
    target = Target.objects.create(name="emulator", kind=Target.KUBERNETES,
                                   settings={"kubeconfig_path": str(definitions[0]), "request_timeout": 10})
    with running_control_plane(target):
        yield target


def dashboard_shows(client, database_name: str, state: str) -> bool:
    database = Database.objects.filter(name=database_name).first()
    if database is None:
        return False
    page = client.get(f"/databases/{database.pk}/").content.decode()
    return database_name in page and state in page


def test_seed_walkthrough_with_kubectl(standalone, control_plane, tmp_path, client, staff_user):
    """Pods simulated: the password is checked against the stored one, the new memorySize in redis.conf."""
    walkthrough(standalone, tmp_path, client, staff_user, open_database=None)


def walkthrough(standalone, tmp_path, client, staff_user, *, open_database) -> None:
    """The seed walkthrough; `open_database(password, maxmemory)` (pods running) AUTHs and reads INFO from a
    pod, and waits until INFO shows `maxmemory`."""
    client.force_login(staff_user)
    kubectl(standalone, "apply", "-f", str(ROOT / "examples" / "rec.yaml"))
    assert eventually(lambda: kubectl(standalone, "get", "rec", "rec", "-o", "jsonpath={.status.state}").stdout
                      == "Running"), kubectl(standalone, "get", "rec", "rec", "-o", "yaml").stdout
    table = kubectl(standalone, "get", "rec").stdout
    assert "Running" in table.splitlines()[1] and table.splitlines()[0].split()[:2] == ["NAME", "NODES"]

    (tmp_path / "redb.yaml").write_text(REDB.format(memory="100MB"))
    kubectl(standalone, "apply", "-f", str(tmp_path / "redb.yaml"))
    assert kubectl(standalone, "get", "redb", "mydb", "-o", "jsonpath={.spec.databaseSecretName}").stdout \
        == "redb-mydb" or eventually(lambda: kubectl(standalone, "get", "redb", "mydb", "-o",
                                                     "jsonpath={.spec.databaseSecretName}").stdout == "redb-mydb")
    assert eventually(lambda: kubectl(standalone, "get", "redb", "mydb", "-o",
                                      "jsonpath={.status.state}").stdout == "active")
    assert eventually(lambda: dashboard_shows(client, "mydb", "active"))
    created = eventually(lambda: Event.objects.get(object_kind="database", object_name="mydb", reason="Created"))
    assert created.actor.startswith("kubernetes:kubectl"), created.actor  # the field manager kubectl used
    encoded = eventually(lambda: kubectl(standalone, "get", "secret", "redb-mydb", "-o",
                                         "jsonpath={.data.password}").stdout)
    password = base64.b64decode(encoded).decode()
    assert eventually(lambda: password == Database.objects.get(name="mydb").password)
    if open_database:
        open_database(password, parse_memory("100MB"))

    (tmp_path / "redb.yaml").write_text(REDB.format(memory="200MB"))
    kubectl(standalone, "apply", "-f", str(tmp_path / "redb.yaml"))
    assert eventually(lambda: Database.objects.get(name="mydb").spec["memorySize"] == "200MB")
    # What the pods' redis.conf says (with pods running for real, INFO memory would show it).
    assert eventually(lambda: f'maxmemory "{parse_memory("200MB")}"' in _config_of(standalone, "mydb-config")), \
        _config_of(standalone, "mydb-config")
    if open_database:
        open_database(password, parse_memory("200MB"))
    assert eventually(lambda: kubectl(standalone, "get", "redb", "mydb", "-o",
                                      "jsonpath={.status.observedGeneration}").stdout
                      == kubectl(standalone, "get", "redb", "mydb", "-o",
                                 "jsonpath={.metadata.generation}").stdout)

    (tmp_path / "bad.yaml").write_text(REDB.replace("mydb", "toobig").format(memory="1PB"))
    kubectl(standalone, "apply", "-f", str(tmp_path / "bad.yaml"))
    refused = eventually(lambda: (yaml.safe_load(kubectl(standalone, "get", "redb", "toobig", "-o",
                                                         "yaml").stdout).get("status") or {}))
    assert refused.get("specStatus") == "Invalid" or eventually(
        lambda: yaml.safe_load(kubectl(standalone, "get", "redb", "toobig", "-o", "yaml").stdout)
        .get("status", {}).get("specStatus") == "Invalid")
    text = kubectl(standalone, "get", "redb", "toobig", "-o", "yaml").stdout
    assert "spec.memorySize:" in text
    assert eventually(lambda: not Database.objects.filter(name="toobig").exists())
    kubectl(standalone, "delete", "redb", "toobig", "--wait=true", "--timeout=60s")

    deleted = kubectl(standalone, "delete", "redb", "mydb", "--wait=true", "--timeout=90s")
    assert 'redisenterprisedatabase.app.redislabs.com "mydb" deleted' in deleted.stdout
    assert eventually(lambda: not Database.objects.filter(name="mydb").exists())
    assert kubectl(standalone, "get", "statefulset", "mydb", check=False).returncode != 0
    assert kubectl(standalone, "get", "secret", "redb-mydb", check=False).returncode != 0
    kubectl(standalone, "delete", "rec", "rec", "--wait=true", "--timeout=90s")
    assert kubectl(standalone, "get", "statefulset", "rec", check=False).returncode != 0
    assert kubectl(standalone, "get", "rec,redb", "-A").stderr.strip() == "No resources found"


def _config_of(standalone, name: str) -> str:
    found = kubectl(standalone, "get", "configmap", name, "-o", "json", check=False)
    return "".join(json.loads(found.stdout).get("data", {}).values()) if found.returncode == 0 else ""


@pytest.fixture
def live_definitions(kube_env, live_kube, tmp_path):
    """An in-process emulator whose pods run for real (tests/kube/podrunner), for kubectl too."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(kube_env.emulator.kubeconfig())
    kubeconfig.chmod(0o600)
    kube_env.store.put_kind("Namespace", {"metadata": {"name": "default"}})
    standalone = (kubeconfig, tmp_path)
    crds = kubectl(standalone, "apply", "--server-side", "-f", str(ROOT / "deploy" / "kubernetes" / "crds"))
    assert "serverside-applied" in crds.stdout
    kubectl(standalone, "apply", "-f", "-", stdin=STORAGE_CLASS)
    return standalone


def test_seed_walkthrough_with_kubectl_and_pods_running(kube_env, live_kube, live_definitions, tmp_path, client,
                                                        staff_user, settings):
    """Pods run for real: the password from the Secret opens the database from a client pod (AUTH + INFO), and
    INFO shows the new maxmemory after `kubectl apply` of a changed memorySize."""
    settings.CONTROLPLANE_RECONCILE_MODE = "inline"
    kube_env.target.settings = {**kube_env.target.settings, "request_timeout": 10.0}
    kube_env.target.save()
    live_kube_client = live_kube.client_pod()

    def open_database(password: str, maxmemory: int) -> None:
        port = eventually(lambda: Database.objects.get(name="mydb").spec["databasePort"])  # may meet a table lock
        cli = ["redis-cli", "-h", "mydb.default.svc.cluster.local", "-p", str(port)]

        def info_memory() -> str:
            return live_kube.exec(live_kube_client, "client", [*cli, "info", "memory"],
                                  env={"REDISCLI_AUTH": password}).stdout

        live_kube.wait_for("INFO through the database Service", lambda: "used_memory:" in info_memory(), 90)
        live_kube.wait_for(f"maxmemory {maxmemory}", lambda: f"maxmemory:{maxmemory}" in info_memory(), 90)
        refused = live_kube.exec(live_kube_client, "client", [*cli, "info", "memory"],
                                 env={"REDISCLI_AUTH": "wrong"})
        assert "WRONGPASS" in refused.stdout + refused.stderr

    with running_control_plane(kube_env.target):
        walkthrough(live_definitions, tmp_path, client, staff_user, open_database=open_database)
    assert live_kube.errors == []
