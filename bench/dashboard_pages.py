"""Dashboard page figures: server time of each page with 500 databases (the goal is under 200 ms).

Runs in-process (Django's test client: middleware, views, queries, templates; no network) against a
throwaway SQLite database filled through the real write path, with statuses written by the
reconciler's own `write_status`. Prints median / p95 time and the number of SQL queries per page.

    .venv/bin/python bench/dashboard_pages.py [--databases 500] [--repeat 30]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from common import options, report, setup_django, timed  # bench/ is on sys.path when run as a script


def fill(count: int):
    from django.contrib.auth import get_user_model

    from accounts.models import Team
    from clusters.services import create_cluster
    from core.drivers import Condition, Observation
    from databases.services import create_database
    from engine.reconcile import write_status
    from targets import managed

    staff = get_user_model().objects.create_user("ops", is_staff=True)
    member = get_user_model().objects.create_user("alice")
    team = Team.objects.create(name="payments")
    team.members.add(member)
    spec = {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "64Gi"}}}
    clusters = [create_cluster(name=f"rec-{i}", namespace=f"rec-{i}", spec=spec, actor="bench").obj
                for i in range(5)]
    for cluster in clusters:
        write_status(cluster, Observation(state=managed.RUNNING, details={"redisVersion": "7.2"}), 1)
    for i in range(count):
        database = create_database(cluster=clusters[i % len(clusters)], name=f"db-{i}",
                                   spec={"memorySize": "100MB", "replication": True}, team=team, actor="bench").obj
        write_status(database, Observation(state=managed.DB_ACTIVE, conditions=[
            Condition("MasterAnswers", "True", "Online", "shard-0-0 answers AUTH+PING")], details={
            "redisVersion": "7.2", "master": "shard-0-0", "processes": {
                "shard-0-0": {"port": 17000 + 2 * i, "role": "master", "version": "7.2"},
                "shard-0-1": {"port": 17001 + 2 * i, "role": "slave", "version": "7.2"}}}), 1)
    return staff, member, clusters[0]


def run(count: int, repeat: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from databases.models import Database

    staff, member, cluster = fill(count)
    database = Database.objects.filter(cluster=cluster).first()
    keys = "&".join(f"o=database-{pk}" for pk in Database.objects.values_list("pk", flat=True)[:50])
    pages = [
        ("databases list, page 1 (member)", member, "/databases/"),
        ("databases list, last page (member)", member, f"/databases/?page={count // 50}"),
        ("databases list, page 1 (staff)", staff, "/databases/"),
        ("clusters list (member)", member, "/clusters/"),
        (f"cluster page ({count // 5} databases)", staff, f"/clusters/{cluster.pk}/"),
        ("database page", member, f"/databases/{database.pk}/"),
        ("database create form", member, "/databases/new/"),
        ("database edit form", member, f"/databases/{database.pk}/edit/"),
        ("database upgrade page", member, f"/databases/{database.pk}/upgrade/"),
        ("state refetch, 50 objects + timeline", member, f"/state/?{keys}&events=database-{database.pk}"),
    ]
    print(f"dashboard pages with {count} databases, {repeat} requests each (server time, in-process)")
    for label, user, url in pages:
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 200, url  # warm-up, and the page works
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        report(f"{label} [{len(queries)} queries]", [timed(lambda c=client, u=url: c.get(u)) for _ in range(repeat)])


def main() -> None:
    args = options(__doc__, databases=500, repeat=30)
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        setup_django(Path(tmp))
        from django.conf import settings
        from django.db import connection

        settings.ALLOWED_HOSTS = ["testserver"]
        connection.cursor().execute("PRAGMA journal_mode=WAL")
        run(args.databases, args.repeat)


if __name__ == "__main__":
    main()
