"""Rollouts: a pure plan (replicas first, master switched over, one pod at a time), and driven end to end."""
from __future__ import annotations

import pytest

from clusters.services import upgrade_cluster
from databases.services import upgrade_database
from kube.rollout import DONE, FAILOVER, REPLACE, WAIT, PodView, plan
from targets import managed

from .test_lifecycle import active_database, run, running_cluster


def pods(*specs):
    """specs: (name, hash, ready, master)."""
    return [PodView(name, config_hash, ready, master) for name, config_hash, ready, master in specs]


def test_nothing_to_do_when_every_pod_is_current():
    step = plan(pods(("db-0", "new", True, True), ("db-1", "new", True, False)), "new", 2)
    assert step.action == DONE and step.progress == "2/2"


def test_replicas_go_first_highest_ordinal_first():
    step = plan(pods(("db-0", "old", True, True), ("db-1", "old", True, False), ("db-2", "old", True, False)),
                "new", 3)
    assert (step.action, step.pod) == (REPLACE, "db-2")
    assert "replica" in step.message


def test_waits_while_any_pod_is_not_ready():
    step = plan(pods(("db-0", "old", True, True), ("db-1", "new", False, False)), "new", 2)
    assert step.action == WAIT and "db-1" in step.message
    step = plan(pods(("db-0", "old", True, True)), "new", 2)
    assert step.action == WAIT and "to be created" in step.message


def test_master_is_switched_over_before_it_is_replaced():
    step = plan(pods(("db-0", "old", True, True), ("db-1", "new", True, False)), "new", 2)
    assert (step.action, step.pod, step.progress) == (FAILOVER, "db-0", "1/2")


def test_master_without_replica_is_replaced_with_a_warning():
    step = plan(pods(("db-0", "old", True, True)), "new", 1)
    assert (step.action, step.pod) == (REPLACE, "db-0")
    assert "brief unavailability" in step.message


def test_quorum_members_roll_one_at_a_time():
    step = plan(pods(("rec-0", "old", True, False), ("rec-1", "old", True, False), ("rec-2", "new", True, False)),
                "new", 3)
    assert (step.action, step.pod) == (REPLACE, "rec-1")


@pytest.mark.django_db(transaction=True)
def test_database_upgrade_rolls_replica_then_master(kube_env, team):
    cluster = running_cluster(kube_env)
    database = active_database(kube_env, cluster, team, redisVersion="7.2")
    upgrade_database(database, version="7.4", actor="test")
    replaced = []
    for _ in range(6):
        before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis")
                  if p["metadata"]["name"].startswith("cache-")}
        run(database)
        after = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis")
                 if p["metadata"]["name"].startswith("cache-") and not p["metadata"].get("deletionTimestamp")}
        replaced += [name for name in before if name not in after]
        if database.state == managed.DB_ACTIVE:
            break
        assert database.state == managed.DB_CHANGE_PENDING
        kube_env.settle()
    assert database.state == managed.DB_ACTIVE
    assert replaced == ["cache-1", "cache-0"]  # replica first, master last
    assert database.status["redisVersion"] == "7.4"
    images = {p["spec"]["containers"][0]["image"] for p in kube_env.store.all_of("Pod", "redis", "redis.io/database")}
    assert images == {"redis:7.4"}


@pytest.mark.django_db(transaction=True)
def test_cluster_upgrades_before_its_databases(kube_env, team):
    cluster = running_cluster(kube_env, redisEnterpriseImageSpec={"versionTag": "7.2"})
    database = active_database(kube_env, cluster, team, redisVersion="7.2")
    upgrade_cluster(cluster, version="7.4", actor="test")
    upgrade_database(database, version="7.4", actor="test")
    run(cluster)
    assert cluster.state == managed.INITIALIZING and cluster.status["rollout"] != "done"
    run(database)
    assert "waiting for cluster rec" in database.status["rollout"]
    assert {p["metadata"]["name"] for p in kube_env.store.all_of("Pod", "redis", "redis.io/database")} \
        == {"cache-0", "cache-1"}
    for _ in range(8):
        kube_env.settle()
        run(cluster)
        if cluster.state == managed.RUNNING:
            break
    assert cluster.state == managed.RUNNING
    run(database)
    assert database.status["rollout"].startswith("replacing replica")


IN_SYNC = {"role": "slave", "loading": "0", "master_link_status": "up", "master_sync_in_progress": "0",
           "master_last_io_seconds_ago": "1", "slave_repl_offset": "5000"}


@pytest.mark.parametrize(("change", "master_offset", "problem"), [
    ({}, 5000, None),
    ({}, None, None),
    ({"master_sync_in_progress": "1"}, 5000, "a full sync from the master is in progress"),
    ({"master_link_status": "down"}, 5000, "its replication link is down"),
    ({"loading": "1"}, 5000, "it is still loading its data set"),
    ({"role": "master"}, 5000, "it is not a replica (role master)"),
    ({"master_last_io_seconds_ago": "60"}, 5000, "it has not heard from its master for 60 s"),
    ({"slave_repl_offset": "0"}, 5000 + 2 * 1024 * 1024, f"it is {5000 + 2 * 1024 * 1024} bytes behind its master"),
])
def test_a_replica_is_promotable_only_when_caught_up(change, master_offset, problem):
    from dataplane.replication import promotion_problem

    assert promotion_problem({**IN_SYNC, **change}, master_offset) == problem
