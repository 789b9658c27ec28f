"""The periodic pass: O(kinds) list calls per target, and nothing written when nothing drifted."""
from __future__ import annotations

import pytest

from engine.sweep import reconcile_everything
from kube.live import CLUSTER_KINDS, DATABASE_KINDS
from targets import managed

from .test_lifecycle import make_cluster, make_database, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_idle_pass_lists_each_kind_once_and_writes_nothing(kube_env, team):
    objects = []
    for index in range(2):
        cluster = make_cluster(kube_env, name=f"rec{index}", namespace=f"team{index}")
        objects.append(cluster)
        objects += [make_database(cluster, team, name=f"db{index}-{n}") for n in range(3)]
    kube_env.auto_settle()
    for _ in range(3):
        reconcile_everything()
    for obj in objects:
        obj.refresh_from_db()
        assert obj.state in (managed.RUNNING, managed.DB_ACTIVE), (obj.name, obj.status)

    kube_env.emulator.reset_requests()
    counts = reconcile_everything()
    assert counts["errors"] == 0 and counts["clusters"] == 2 and counts["databases"] == 6
    requests = kube_env.emulator.requests
    assert kube_env.emulator.writes() == []
    kinds = set(CLUSTER_KINDS) | set(DATABASE_KINDS)
    assert len(requests) == len(kinds)  # one list per kind for the whole target, not one per object
    assert all("namespaces/" not in r.path for r in requests)  # cluster-wide lists


def test_idle_pass_still_finds_drift(kube_env, team):
    cluster = make_cluster(kube_env)
    database = make_database(cluster, team)
    kube_env.auto_settle()
    for _ in range(3):
        reconcile_everything()
    kube_env.store.delete_kind("ConfigMap", "redis", "cache-config")
    reconcile_everything()
    assert kube_env.store.find("ConfigMap", "redis", "cache-config") is not None
    run(database)
    assert database.state == managed.DB_ACTIVE


def test_a_failing_api_costs_one_failed_call_per_pass_not_one_per_object(kube_env, team):
    cluster = make_cluster(kube_env)
    for n in range(5):
        make_database(cluster, team, name=f"db{n}")
    kube_env.auto_settle()
    for _ in range(3):
        reconcile_everything()
    kube_env.emulator.reset_requests()
    kube_env.inject(status=500, count=1000)
    counts = reconcile_everything()
    assert counts["errors"] == 6
    assert len(kube_env.emulator.requests) == 1
    for obj in [cluster, *cluster.databases.all()]:
        obj.refresh_from_db()
        assert obj.state == managed.ERROR
