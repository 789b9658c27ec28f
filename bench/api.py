"""REST API figures: request latency through the whole DRF stack (token auth, permissions, JSON).

Runs in-process (DRF's APIClient, no network) against a throwaway SQLite database with
reconciliation left to the caller ("manual"), so the figures are the API and write path alone.

    .venv/bin/python bench/api.py [--databases 200] [--repeat 50]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from common import options, report, setup_django, timed  # bench/ is on sys.path when run as a script


def run(count: int, repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from accounts.models import Team
    from accounts.tokens import issue_token

    staff = get_user_model().objects.create_user("ops", is_staff=True)
    member = get_user_model().objects.create_user("alice")
    team = Team.objects.create(name="payments")
    team.members.add(member)
    staff_api, member_api = APIClient(), APIClient()
    staff_api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(staff)}")
    member_api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(member)}")

    def ok(response, status: int = 200):
        assert response.status_code == status, response.content
        return response

    spec = {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "64Gi"}}}
    ok(staff_api.post("/api/v1/clusters/", {"name": "bench", "spec": spec}, format="json"), 201)
    base = "/api/v1/clusters/bench/databases/"
    creates = [timed(lambda i=i: ok(member_api.post(base, {"name": f"db-{i}", "spec": {"memorySize": "100MB"}},
                                                    format="json"), 201)) for i in range(count)]
    report(f"POST database (cluster grows to {count})", creates)
    for limit in (100, count):
        url = f"/api/v1/databases/?limit={limit}"
        with CaptureQueriesContext(connection) as queries:
            ok(member_api.get(url))
        report(f"GET /databases/?limit={limit} ({len(queries)} SQL queries)",
               [timed(lambda url=url: ok(member_api.get(url))) for _ in range(repeat)])
    report("GET one database", [timed(lambda: ok(member_api.get(base + "db-0/"))) for _ in range(repeat)])
    report("PATCH database (spec change)",
           [timed(lambda i=i: ok(member_api.patch(base + f"db-{i}/", {"spec": {"memorySize": "200MB"}},
                                                  format="json"))) for i in range(min(count, repeat))])
    report("PATCH database (rejected, 400)",
           [timed(lambda: ok(member_api.patch(base + "db-0/", {"spec": {"memorySize": "1MB"}}, format="json"), 400))
            for _ in range(repeat)])
    report("POST credentials", [timed(lambda: ok(member_api.post(base + "db-0/credentials/")))
                                for _ in range(repeat)])
    report("GET events", [timed(lambda: ok(member_api.get(base + "db-0/events/"))) for _ in range(repeat)])
    report("GET /schema/", [timed(lambda: ok(staff_api.get("/api/v1/schema/"))) for _ in range(5)])


def main() -> None:
    args = options(__doc__, databases=200, repeat=50)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        setup_django(Path(tmp))
        run(args.databases, args.repeat)


if __name__ == "__main__":
    main()
