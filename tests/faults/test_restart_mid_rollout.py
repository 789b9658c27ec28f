"""The control plane restarted while a rollout is half done: the new process finds where the rollout
stands from what is observed (pods and their config hash), not from memory, and finishes it with every
pod replaced exactly once."""
from __future__ import annotations

import pytest

from core import drivers
from databases.services import upgrade_database
from targets import managed
from tests.kube.test_lifecycle import active_database, run, running_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def database_pods(kube_env) -> dict[str, str]:
    """name -> uid of the database's pods that are not on their way out (Terminating counts as replaced)."""
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis")
            if p["metadata"]["name"].startswith("cache-") and not p["metadata"].get("deletionTimestamp")}


def test_a_rollout_half_done_when_the_control_plane_restarts_is_finished_once(kube_env, team):
    cluster = running_cluster(kube_env)
    database = active_database(kube_env, cluster, team, redisVersion="7.2")
    upgrade_database(database, version="7.4", actor="test")
    original = database_pods(kube_env)
    replaced: list[str] = []
    for _ in range(6):  # until the first pod has been replaced: the rollout is half done
        before = database_pods(kube_env)
        run(database)
        replaced += [name for name, uid in before.items() if database_pods(kube_env).get(name) != uid]
        kube_env.settle()
        if replaced:
            break
    assert replaced == ["cache-1"] and database.state == managed.DB_CHANGE_PENDING

    drivers._instances.clear()  # the restart: a new process holds no driver, client or plan
    for _ in range(8):
        before = database_pods(kube_env)
        run(database)
        replaced += [name for name, uid in before.items() if database_pods(kube_env).get(name) != uid]
        if database.state == managed.DB_ACTIVE:
            break
        kube_env.settle()
    assert database.state == managed.DB_ACTIVE, database.status
    assert replaced == ["cache-1", "cache-0"]  # each pod once, replica first
    assert set(database_pods(kube_env)) == set(original)
    assert database.status["redisVersion"] == "7.4" and database.spec["redisVersion"] == "7.4"
