"""High availability inside the cluster: with the control plane stopped, the database Service follows a failover.

After the database is set up, nothing of the control plane runs (no reconcile, no `follow_masters`: as
with worker and beat stopped). The sentinels fail over; each pod's `rigger` sidecar labels its own pod
through the API server (kubectl over TLS with the pod's ServiceAccount); the Service's endpoints follow.
A deleted master first hands over (preStop: writes paused until a replica holds them). Every `WAIT 1`
acknowledged key is read back. Then the control plane comes back and reconciles to what the pods did: active,
the status naming the master the sentinels chose. Needs root (pods run for real), like test_running_pods.py.
"""
from __future__ import annotations

import shutil
import signal
import time

import pytest

from targets import managed

from .emulator import _pod_ready
from .test_running_pods import NAMESPACE, Writer, converge, live_database

pytestmark = [pytest.mark.django_db(transaction=True),
              # the pods' rigger sidecar runs this machine's kubectl (tests/kube/podrunner/images.py)
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")]


def selected(kube_env, service: str) -> list[str]:
    """The pods Service `service` sends new connections to (its ready endpoints)."""
    endpoints = kube_env.store.find("Endpoints", NAMESPACE, service) or {}
    return sorted(a["targetRef"]["name"] for subset in endpoints.get("subsets") or []
                  for a in subset.get("addresses") or [])


def follow(kube_env, runner, old: str, what: str) -> tuple[str, float]:
    """Wait until the Service selects exactly one pod other than `old`; (that pod, seconds from now)."""
    started = time.monotonic()
    try:
        runner.wait_for(f"the Service to select a new master after {what}",
                        lambda: len(selected(kube_env, "cache")) == 1 and selected(kube_env, "cache")[0] != old, 45)
    except AssertionError as exc:
        logs = "".join(f"\n--- {pod} {container}:\n" + runner.logs(NAMESPACE, pod, container=container)[-3000:]
                       for pod in ("cache-0", "cache-1") for container in ("redis", "rigger"))
        raise AssertionError(f"{exc}; Service selects {selected(kube_env, 'cache')}{logs}{_sentinels(runner)}") \
            from None
    return selected(kube_env, "cache")[0], time.monotonic() - started


def _sentinels(runner) -> str:
    """What the sentinels (plain or TLS group) think of `cache`, and their logs' ends: why no failover."""
    found = []
    for pod in ("rec-0", "rec-tls-0"):
        try:
            state = runner.exec(NAMESPACE, pod, ["sh", "-c", "redis-cli -p 26379 --no-auth-warning sentinel master "
                                                 "cache | paste -sd ' '"]).stdout
            found.append(f"\n--- {pod}: {state}\n{runner.logs(NAMESPACE, pod)[-2000:]}")
        except LookupError:
            continue
    return "".join(found)


def control_plane_writes(kube_env) -> list[str]:
    """Writes to the API server since the control plane stopped that did not come from the pods' kubectl."""
    return [f"{r.method} {r.path}" for r in kube_env.emulator.writes()
            if not (r.method == "PATCH" and "/pods/" in r.path and "kubectl-label" in r.query)]


def test_with_the_control_plane_stopped_the_service_follows_a_killed_and_a_deleted_master(kube_env, live_kube, team,
                                                                                          capsys):
    database = live_database(kube_env, live_kube, team)
    assert selected(kube_env, "cache") == ["cache-0"]
    rules = kube_env.store.find("Role", NAMESPACE, "cache")["rules"]
    assert rules == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"],
                       "resourceNames": ["cache-0", "cache-1"]}]
    kube_env.emulator.reset_requests()  # from here on the control plane does nothing
    with Writer(kube_env, database) as writer:
        writer.wait_for_more(20)
        # kill -9 of the master's Redis: the sentinels fail over, the pods relabel themselves.
        live_kube.kill(NAMESPACE, "cache-0", signal.SIGKILL)
        master, killed = follow(kube_env, live_kube, "cache-0", "kill -9")
        assert master == "cache-1"
        restarted = kube_env.store.find("Pod", NAMESPACE, "cache-0")["status"]["containerStatuses"][0]
        assert restarted["restartCount"] == 1 and restarted["lastState"]["terminated"]["exitCode"] == 137
        writer.wait_for_more(20)
        # The restarted pod rejoined as a replica; wait until it is in sync, then delete the master pod.
        live_kube.wait_for("cache-0 back as a ready replica", lambda: _ready_replica(live_kube, "cache-0"), 60)
        uid = kube_env.store.find("Pod", NAMESPACE, "cache-1")["metadata"]["uid"]
        live_kube.delete_pod(NAMESPACE, "cache-1")
        master, deleted = follow(kube_env, live_kube, "cache-1", "deletion")
        assert master == "cache-0"
        writer.wait_for_more(20)
        live_kube.wait_for("cache-1 recreated by its StatefulSet", lambda: _recreated(kube_env, "cache-1", uid), 60)
    with capsys.disabled():
        print(f"\nService moved to the new master, control plane stopped: {killed:.1f} s after kill -9 of the "
              f"master, {deleted:.1f} s after deleting the master pod (handover); {len(writer.acknowledged)} "
              f"acknowledged writes, {writer.errors} client errors")
    assert writer.missing() == [], f"{len(writer.missing())} of {len(writer.acknowledged)} acknowledged keys lost"
    assert control_plane_writes(kube_env) == []
    assert "labelled master" in live_kube.logs(NAMESPACE, "cache-0", container="rigger")
    # The control plane back (worker and beat): it takes the sentinels' choice, loses nothing, restarts nothing.
    converge(database, lambda d: d.state == managed.DB_ACTIVE and d.status.get("master") == "cache-0"
             and all(_pod_ready(p) for p in kube_env.store.all_of("Pod", NAMESPACE, "redis.io/database=cache")))
    assert writer.missing() == []


def _recreated(kube_env, name: str, uid: str) -> bool:
    found = kube_env.store.find("Pod", NAMESPACE, name)
    return bool(found) and found["metadata"]["uid"] != uid and _pod_ready(found)


def _ready_replica(runner, name: str) -> bool:
    info = runner.exec(NAMESPACE, name, ["sh", "-c", "redis-cli --no-auth-warning info replication"]).stdout
    return "role:slave" in info and "master_link_status:up" in info and "master_sync_in_progress:0" in info
