"""Figures for the bounds on `POST /api/v1/apply/`: how long oversized uploads take to be answered.

Posts, through the whole DRF stack in-process (APIClient, no network), a ~2.4 MB `kind: List` of REDBs,
a ~2.4 MB single document, a list one document over the count bound, the largest list the bounds accept, and the
slowest body to refuse (a List just under the byte bound: parsed whole before its items are counted).
Prints status and time of each.

    .venv/bin/python bench/apply_limits.py
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import setup_django  # bench/ is on sys.path when run as a script


def redb(index: int) -> str:
    return (f"  - apiVersion: app.redislabs.com/v1alpha1\n    kind: RedisEnterpriseDatabase\n"
            f"    metadata: {{name: db-{index}}}\n"
            f"    spec: {{memorySize: 100MB, redisEnterpriseCluster: {{name: bench}}}}\n")


def listing(count: int) -> str:
    return "apiVersion: v1\nkind: List\nitems:\n" + "".join(redb(i) for i in range(count))


def run(only: set[int] | None) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from accounts.models import Team
    from accounts.tokens import issue_token
    from clusters.services import create_cluster

    staff = get_user_model().objects.create_user("ops", is_staff=True)
    Team.objects.create(name="payments")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(staff)}")
    spec = {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "4096Gi"}}}
    create_cluster(name="bench", spec=spec, actor="bench")

    per_item = len(redb(0))
    big_list = listing(int(2.4e6 // per_item))
    big_document = ("apiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseDatabase\nmetadata: {name: big}\n"
                    "spec:\n  memorySize: 100MB\n  redisEnterpriseCluster: {name: bench}\n  junk: \"" +
                    "x" * int(2.4e6) + "\"\n")
    most = getattr(settings, "CONTROLPLANE_APPLY_MAX_DOCUMENTS", 100)
    cases = [("2.4 MB kind: List of REDBs", big_list), ("2.4 MB single REDB document", big_document),
             (f"{most + 1} small REDBs (one over the count)", listing(most + 1)),
             (f"{most} small REDBs (the most accepted)", listing(most)),
             ("a List just under the byte bound", listing(int(settings.CONTROLPLANE_APPLY_LIMITS["max_bytes"]
                                                              // len(redb(99999))) - 1))]
    for index, (label, text) in enumerate(cases, 1):
        if only and index not in only:
            continue
        start = time.perf_counter()
        response = api.generic("POST", "/api/v1/apply/?team=payments", text.encode(), content_type="application/yaml")
        elapsed = time.perf_counter() - start
        detail = response.json().get("detail", "")[:70] if response.status_code != 200 else ""
        print(f"{label:<42} {len(text) / 1e6:5.2f} MB  -> {response.status_code} in {elapsed * 1000:9.1f} ms  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", help="comma-separated case numbers (1-4) to run; default all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        setup_django(Path(tmp))
        from django.db import connection

        connection.cursor().execute("PRAGMA journal_mode=WAL")
        run({int(n) for n in args.cases.split(",")} if args.cases else None)


if __name__ == "__main__":
    main()
