"""Two users updating one database at the same moment, over HTTP, on SQLite and on PostgreSQL:
one wins, the other gets 409 (stale generation) and nothing else (no 500, no lost or mixed write)."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from contextlib import ExitStack

import pytest

from .stack import ProdShapedStack, sql_backend_env

ROUNDS = 5


def call(url: str, token: str, method: str, body: dict | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def update_at_once(url: str, generation: int, tokens: dict[str, str], sizes: dict[str, str]) -> dict:
    """Each user PATCHes `url` based on `generation`, all released at the same instant; user -> (code, body)."""
    results: dict[str, tuple[int, dict]] = {}
    start = threading.Barrier(len(tokens))

    def update(user: str) -> None:
        start.wait(timeout=10)
        results[user] = call(url, tokens[user], "PATCH", {"spec": {"memorySize": sizes[user]}},
                             {"If-Match": f'"{generation}"'})

    threads = [threading.Thread(target=update, args=(user,)) for user in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request, tmp_path):
    with ExitStack() as exits:
        live = ProdShapedStack(tmp_path, **sql_backend_env(request.param, exits))
        exits.callback(live.close)
        live.start()
        yield live


def test_two_users_updating_one_database_at_once_one_wins_the_other_gets_409(stack):
    ops = stack.manage("create_token", "ops").strip().splitlines()[-1]
    alice = stack.manage("create_token", "alice").strip().splitlines()[-1]
    api = f"{stack.url}/api/v1/"
    assert call(api + "clusters/", ops, "POST", {"name": "rec", "spec": {"nodes": 3}})[0] == 201
    database = api + "clusters/rec/databases/orders/"
    assert call(api + "clusters/rec/databases/", alice, "POST",
                {"name": "orders", "spec": {"memorySize": "100MB"}})[0] == 201

    for round_number in range(ROUNDS):
        status, current = call(database, alice, "GET")
        generation = current["generation"]
        sizes = {"ops": f"{200 + round_number}MB", "alice": f"{300 + round_number}MB"}
        results = update_at_once(database, generation, {"ops": ops, "alice": alice}, sizes)
        codes = sorted(code for code, _ in results.values())
        assert codes == [200, 409], results
        winner = next(user for user, (code, _) in results.items() if code == 200)
        loser_body = next(body for code, body in results.values() if code == 409)
        assert "generation" in loser_body["detail"]
        status, stored = call(database, alice, "GET")
        assert stored["generation"] == generation + 1
        assert stored["spec"]["memorySize"] == sizes[winner]
    assert "Traceback" not in stack.web_log()
