"""PostgreSQL unavailable for 10 s under the production-shaped web (uvicorn workers, pooled connections):
requests meanwhile get a 503 that says so (never a 500), and once it is back the same processes answer
again with the stored spec intact and new writes accepted: the first request after the restart is a 200."""
from __future__ import annotations

import time
from contextlib import ExitStack

import pytest

from controlplane.localpostgres import PostgresUnavailable
from tests.servers import postgres_server

from .stack import ProdShapedStack
from .test_concurrent_writes import call

OUTAGE_SECONDS = 10


def test_postgres_down_for_ten_seconds_is_a_503_then_everything_carries_on(tmp_path):
    with ExitStack() as exits:
        try:
            server = exits.enter_context(postgres_server())
        except PostgresUnavailable as exc:
            pytest.skip(f"no PostgreSQL here: {exc}")
        live = ProdShapedStack(tmp_path, **server.env())
        exits.callback(live.close)
        live.start()
        ops = live.manage("create_token", "ops").strip().splitlines()[-1]
        api = f"{live.url}/api/v1/"
        code, created = call(api + "clusters/", ops, "POST", {"name": "rec", "spec": {"nodes": 3}})
        assert code == 201

        server.stop("immediate")
        stopped = time.monotonic()
        code, body = call(api + "clusters/rec/", ops, "GET")
        assert code == 503 and "database is unavailable" in body["detail"], (code, body)
        code, body = call(api + "clusters/rec/databases/", ops, "POST",
                          {"name": "orders", "team": "payments", "spec": {"memorySize": "100MB"}})
        assert code == 503, (code, body)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        server.start()

        # The pool checks a connection before lending it (CONN_HEALTH_CHECKS), so the connections the restart
        # broke are never handed to a request: the very first requests after PostgreSQL is back (reaching both
        # workers and every pooled connection) are answered.
        answers = []
        for _ in range(12):
            asked = time.monotonic()
            answers.append((call(api + "clusters/rec/", ops, "GET")[0], round(time.monotonic() - asked, 1)))
        assert [code for code, _ in answers] == [200] * 12, (answers, live.web_log()[-3000:])
        code, cluster = call(api + "clusters/rec/", ops, "GET")
        assert cluster.get("spec") == created.get("spec") and cluster.get("generation") == 1, (code, cluster, created)
        code, _ = call(api + "clusters/rec/databases/", ops, "POST",
                       {"name": "orders", "team": "payments", "spec": {"memorySize": "100MB"}})
        assert code == 201
        assert "Traceback" not in live.web_log()
