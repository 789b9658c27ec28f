"""Concurrent writes on the embedded SQLite: never a 500 ("database is locked"), never a lost update.

Two real Daphne processes share one file database (as several web workers would, or web and a
worker), and threads send simultaneous requests to both. Waiting for the write lock is SQLite's
busy timeout; a write based on a stale generation is a 409.
"""
from __future__ import annotations

import json
import stat
import subprocess
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser.stack import BIN_DIR, LiveStack
from tests.servers import free_port, wait_for_port

CLUSTER = {"name": "rec", "spec": {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"memory": "8Gi"}}}}


@pytest.fixture
def two_webs(tmp_path):
    stack = LiveStack(tmp_path).start()
    port = free_port()
    log = open(tmp_path / "web2.log", "ab")
    second = subprocess.Popen([str(BIN_DIR / "daphne"), "-b", "127.0.0.1", "-p", str(port),
                               "controlplane.asgi:application"], env=stack.env, cwd=str(tmp_path),
                              stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        wait_for_port(port, timeout=30)
        token = stack.manage("create_token", "ops").strip()
        yield stack, [stack.url, f"http://127.0.0.1:{port}"], token
    finally:
        second.terminate()
        second.wait(timeout=15)
        stack.close()


def call(url: str, token: str, method: str, path: str, body: dict, **headers: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{url}/api/v1/{path}", data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json",
                                              **headers})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def all_at_once(count: int, send) -> list[tuple[int, dict]]:
    """`send(i)` from `count` threads released together."""
    start = threading.Barrier(count)

    def one(i: int):
        start.wait(timeout=60)
        return send(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_writes_wait_or_conflict_never_fail(two_webs):
    stack, urls, token = two_webs
    assert call(urls[0], token, "POST", "clusters/", CLUSTER)[0] == 201

    created = all_at_once(10, lambda i: call(urls[i % 2], token, "POST", "clusters/rec/databases/",
                                             {"name": f"db{i}", "team": "payments", "spec": {"memorySize": "100MB"}}))
    assert [status for status, _ in created] == [201] * 10, created
    assert len({body["spec"]["databasePort"] for _, body in created}) == 10

    # If-Match on the same generation: one wins, the rest are told the object moved on.
    guarded = all_at_once(20, lambda i: call(urls[i % 2], token, "PATCH", "clusters/rec/databases/db0/",
                                             {"spec": {"memorySize": f"{101 + i}MB"}}, **{"If-Match": '"1"'}))
    statuses = sorted(status for status, _ in guarded)
    assert statuses == [200] + [409] * 19, guarded

    # Unconditional changes all land, one after another: none is lost.
    plain = all_at_once(20, lambda i: call(urls[i % 2], token, "PATCH", "clusters/rec/databases/db1/",
                                           {"spec": {"memorySize": f"{201 + i}MB"}}))
    assert [status for status, _ in plain] == [200] * 20, plain
    assert stack.query("SELECT generation FROM databases_database WHERE name = 'db1'") == [(21,)]
    assert "database is locked" not in stack.web_log()

    assert stack.query("PRAGMA journal_mode") == [("wal",)]
    # The -wal and -shm files exist while a connection is open; SQLite gives them the main file's mode.
    for path in stack.database_file.parent.glob(stack.database_file.name + "*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_write_still_locked_out_after_the_busy_timeout_is_a_409():
    from django.db import OperationalError

    from targets.api.errors import json_exception_handler

    response = json_exception_handler(OperationalError("database is locked"), {})
    assert response.status_code == 409 and response["Retry-After"] == "1"
    assert "nothing was changed" in response.data["detail"]
