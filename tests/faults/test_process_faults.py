"""Faults of the control plane's own processes, with everything running as separate processes as in
production (uvicorn web, a Celery worker, Celery beat every 2 s) against a Kubernetes target (the API
server emulator): the broker Redis restarted mid-reconcile, and a worker killed mid-reconcile. In both
the object converges by itself once the fault clears, its spec intact, and nothing is created twice.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.browser.stack import BASE_DIR, wait_until
from tests.kube.emulator import Fault, KubernetesApiEmulator, SimulatedController
from tests.servers import free_port, wait_for_port

from .stack import ProdShapedStack

RESYNC_SECONDS = "2"


class RestartableRedis:
    """A redis-server on a fixed port that a test can kill and start again (empty, like a restarted broker)."""

    def __init__(self, workdir: Path):
        self.port, self.workdir = free_port(), workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", str(self.workdir), "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Celery:
    """A Celery worker or beat in its own process group, so a kill takes its pool children too."""

    def __init__(self, root: Path, env: dict, *args: str):
        self.root, self.env, self.args = root, env, args
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.root / f"{self.args[0]}.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "controlplane", *self.args],
                                     cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Stack:
    def __init__(self, live: ProdShapedStack, emulator: KubernetesApiEmulator, broker: RestartableRedis,
                 worker: Celery, token: str):
        self.live, self.emulator, self.broker, self.worker, self.token = live, emulator, broker, worker, token

    def call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(f"{self.live.url}/api/v1/{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Token {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def database(self, name: str) -> dict:
        return self.call("GET", f"clusters/rec/databases/{name}/")[1]

    def converged(self, name: str) -> bool:
        data = self.database(name)
        return data["status"].get("state") == "active" and data["status"].get("observedGeneration") == \
            data["generation"]

    def statefulsets(self) -> list[str]:
        return sorted(s["metadata"]["name"] for s in self.emulator.store.list("apis/apps/v1", "statefulsets", "redis"))

    def hang_next_apply(self, seconds: float) -> Fault:
        """The next server-side apply of a StatefulSet hangs, then fails: a reconcile is in the middle."""
        return self.emulator.inject(Fault(status=500, count=1, method="PATCH", path_contains="/statefulsets/",
                                          hang_seconds=seconds))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("process-faults")
    with ExitStack() as exits:
        emulator = KubernetesApiEmulator()
        emulator.start()
        exits.callback(emulator.stop)
        emulator.after_write.append(SimulatedController(emulator.store).step)
        broker = RestartableRedis(root)
        broker.start()
        exits.callback(broker.kill)
        live = ProdShapedStack(root, REDIS_URL=broker.url, CONTROLPLANE_RECONCILE_MODE="celery",
                               CONTROLPLANE_RESYNC_SECONDS=RESYNC_SECONDS, CP_LOCK_TTL_SECONDS="5")
        exits.callback(live.close)
        live.start()
        (root / "kubeconfig").write_text(emulator.kubeconfig())
        live.manage("target", "add", "k8s", "--kubeconfig", str(root / "kubeconfig"))
        token = live.manage("create_token", "ops").strip().splitlines()[-1]
        worker = Celery(root, live.env, "worker", "--concurrency", "1", "-l", "warning")
        beat = Celery(root, live.env, "beat", "-l", "warning", "--schedule", str(root / "beat-schedule"))
        for process in (worker, beat):
            process.start()
            exits.callback(process.kill, signal.SIGTERM)
        stack = Stack(live, emulator, broker, worker, token)
        assert stack.call("POST", "clusters/", {"name": "rec", "target": "k8s", "namespace": "redis",
                                                "spec": {"nodes": 3}})[0] == 201
        assert wait_until(lambda: stack.call("GET", "clusters/rec/")[1]["status"].get("state") == "Running",
                          timeout=90)
        yield stack


def create_database_mid_fault(stack: Stack, name: str, fault_seconds: float) -> Fault:
    """Create `name` with its first StatefulSet apply hanging; returns once a worker is inside that call."""
    fault = stack.hang_next_apply(fault_seconds)
    status, _ = stack.call("POST", "clusters/rec/databases/", {"name": name, "team": "payments",
                                                               "spec": {"memorySize": "100MB"}})
    assert status == 201
    wait_until(lambda: fault.count == 0, timeout=60, interval=0.05)
    return fault


def test_broker_redis_restarted_mid_reconcile(stack):
    create_database_mid_fault(stack, "orders", fault_seconds=2)
    stack.broker.kill()  # queued and unacknowledged messages are gone with it
    time.sleep(1)
    stack.broker.start()
    assert wait_until(lambda: stack.converged("orders"), timeout=120, interval=1)
    database = stack.database("orders")
    assert database["spec"]["memorySize"] == "100MB" and database["generation"] == 1
    assert stack.statefulsets().count("orders") == 1


def test_worker_killed_mid_reconcile_the_work_is_done_again_once(stack):
    create_database_mid_fault(stack, "payments-cache", fault_seconds=5)
    stack.worker.kill()  # SIGKILL: no cleanup, its reconcile lock is left to expire
    stack.worker.start()
    assert wait_until(lambda: stack.converged("payments-cache"), timeout=120, interval=1)
    assert stack.database("payments-cache")["spec"]["memorySize"] == "100MB"
    assert stack.statefulsets() == ["orders", "payments-cache", "rec"]  # each exactly once


def test_load_smoke_every_request_answers_and_every_database_converges(stack, tmp_path):
    """bench/load.py, small: REST clients and websocket watchers at once; no errors, everything converges."""
    env_file = tmp_path / "stack.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in stack.live.env.items() if "\n" not in value))
    env_file.chmod(0o600)
    result = subprocess.run([sys.executable, "bench/load.py", "--url", stack.live.url, "--env-file", str(env_file),
                             "--cluster", "rec", "--clients", "5", "--watchers", "2", "--duration", "5",
                             "--creates", "3", "--converge-timeout", "90", "--label", "smoke"],
                            cwd=BASE_DIR, capture_output=True, text=True, timeout=240)
    summary = next((line for line in result.stdout.splitlines() if line.startswith("LOAD smoke")), "")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    fields = dict(item.split("=", 1) for item in summary.split()[2:])
    assert fields["errors"] == "0" and fields["ws_errors"] == "0", result.stdout[-3000:]  # with error samples
    done, total = fields["converged"].split("/")
    assert done == total and int(total) >= 1
    assert int(fields["requests"]) > 20
