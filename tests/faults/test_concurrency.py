"""Concurrency on one control plane: two reconcilers of one object, a hundred databases at once.

Two users updating one database at once is proven over HTTP on both SQL backends in
test_concurrent_writes.py.
"""
from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from core.errors import TargetError
from core.locks import LockBusy
from databases.models import Database
from engine.reconcile import reconcile
from engine.sweep import reconcile_everything
from targets import managed
from tests.kube.test_lifecycle import make_cluster, make_database, running_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_reconcilers_of_one_object_never_both_write(kube_env):
    cluster = make_cluster(kube_env)
    write_times: list[float] = []
    kube_env.emulator.after_write.append(lambda: write_times.append(time.monotonic()))
    # Reconciler A's first call hangs, then fails: it holds the object's lock all that time.
    kube_env.inject(status=500, count=1, hang_seconds=0.8)
    first_done: list[float] = []
    failures: list[Exception] = []

    def reconciler_a() -> None:
        try:
            reconcile("cluster", cluster.pk)
        except TargetError as exc:
            failures.append(exc)
        finally:
            first_done.append(time.monotonic())
            connection.close()

    thread = threading.Thread(target=reconciler_a)
    thread.start()
    deadline = time.monotonic() + 10
    while not kube_env.emulator.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert kube_env.emulator.requests, "reconciler A never reached the API"
    # A worker that does not wait is turned away; one that waits runs only after A has finished.
    with pytest.raises(LockBusy):
        reconcile("cluster", cluster.pk, lock_wait=0)
    outcome = reconcile("cluster", cluster.pk, lock_wait=10)
    thread.join(timeout=10)
    assert failures and "500" in str(failures[0])
    assert outcome.state == managed.PENDING_CREATION
    assert write_times, "reconciler B applied nothing"
    assert min(write_times) > first_done[0], "a write happened while reconciler A held the lock"


def test_a_hundred_databases_created_at_once_all_converge(kube_env, team):
    cluster = running_cluster(kube_env, redisEnterpriseNodeResources={"limits": {"cpu": "8", "memory": "64Gi"}})
    names = [f"db-{i:03}" for i in range(100)]
    for name in names:
        make_database(cluster, team, name=name, replication=False)
    for _ in range(8):  # a periodic pass, then the cluster's controllers act on what it applied
        reconcile_everything()
        kube_env.settle()
        states = set(Database.objects.values_list("status__state", flat=True))
        if states == {managed.DB_ACTIVE}:
            break
    databases = list(Database.objects.all())
    assert len(databases) == 100
    not_active = [(d.name, d.state) for d in databases if d.state != managed.DB_ACTIVE]
    assert not not_active, not_active[:5]
    assert all(d.status["observedGeneration"] == d.generation for d in databases)
    # Exactly one StatefulSet per database: nothing created twice, nothing missing.
    statefulsets = [s["metadata"]["name"] for s in kube_env.store.list("apis/apps/v1", "statefulsets", "redis")]
    assert sorted(s for s in statefulsets if s != cluster.name) == names
