"""The production path end to end: API write -> Celery (real Redis broker) -> worker -> local target,
and beat's periodic pass putting drift back. Everything runs as separate processes, as `make run` starts them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.browser.stack import BASE_DIR, LiveStack, wait_until

EXAMPLES = BASE_DIR / "examples"


class Api:
    def __init__(self, url: str, token: str):
        self.url, self.token = url, token

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"):
        request = urllib.request.Request(f"{self.url}/api/v1/{path}", data=body, method=method,
                                         headers={"Authorization": f"Token {self.token}",
                                                  "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def state(self, path: str) -> str:
        return self.call("GET", path)["status"].get("state", "")


@pytest.fixture
def production_stack(tmp_path):
    stack = LiveStack(tmp_path, CONTROLPLANE_RECONCILE_MODE="celery", CONTROLPLANE_RESYNC_SECONDS="2")
    stack.start()
    workers = []
    try:
        for args in (["worker", "--concurrency", "2", "-l", "warning"],
                     ["beat", "-l", "warning", "--schedule", str(tmp_path / "beat-schedule")]):
            log = open(tmp_path / f"{args[0]}.log", "ab")
            workers.append(subprocess.Popen([sys.executable, "-m", "celery", "-A", "controlplane", *args],
                                            cwd=BASE_DIR, env=stack.env, stdout=log, stderr=subprocess.STDOUT))
        token = stack.manage("create_token", "ops").strip()
        yield stack, Api(stack.url, token)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        stack.close()


def test_api_write_is_reconciled_by_a_worker_and_beat_puts_drift_back(production_stack):
    stack, api = production_stack
    api.call("POST", "apply/", (EXAMPLES / "rec.yaml").read_bytes(), "application/yaml")
    assert wait_until(lambda: api.state("clusters/rec/") == "Running", timeout=60)

    api.call("POST", "apply/", (EXAMPLES / "redb.yaml").read_bytes(), "application/yaml")
    assert wait_until(lambda: api.state("clusters/rec/databases/redb/") == "active", timeout=60)
    credentials = api.call("POST", "clusters/rec/databases/redb/credentials/")
    client = redis.Redis(host=credentials["host"], port=credentials["port"], password=credentials["password"])
    client.set("written", "through the endpoint")
    assert client.get("written") == b"through the endpoint"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=credentials["port"], password="wrong").ping()

    # Drift: a quorum member dies behind the control plane's back; no one asks for a reconcile.
    pid_file = next(Path(stack.var_dir).rglob("_sentinels/0/*.pid"))
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)

    def restarted() -> bool:
        events = api.call("GET", "clusters/rec/events/")
        items = events["results"] if isinstance(events, dict) else events
        return any(e["reason"] == "ProcessRestarted" for e in items)

    assert wait_until(restarted, timeout=30)  # beat's periodic pass found it and the worker restarted it
    assert wait_until(lambda: api.state("clusters/rec/") == "Running", timeout=30)
    assert client.get("written") == b"through the endpoint"
