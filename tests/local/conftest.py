"""Fixtures for the local target: a private var dir per test and no process left behind."""
from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

# Two names for the one binary this machine has, so rolling upgrades run for real (see docs/local-target.md).
TEST_VERSIONS = {"7.0": "/usr/bin", "7.2": "/usr/bin"}


def kill_everything_under(root: Path) -> None:
    """SIGKILL every process whose pid file lives under `root` (redis, sentinel, haproxy)."""
    for pid_file in root.rglob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if any(name in cmdline for name in (b"redis", b"valkey", b"haproxy")):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def local_target(db, tmp_path, settings):
    """The default local target, writing under this test's own directory."""
    from targets.models import Target

    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = dict(TEST_VERSIONS)
    target = Target.default()
    target.settings = {"var_dir": str(tmp_path / "var")}
    target.save()
    yield target
    kill_everything_under(tmp_path)
    time.sleep(0.1)


@pytest.fixture
def make_cluster(local_target):
    from clusters.services import create_cluster

    def make(name: str = "rec", **spec):
        cluster = create_cluster(name=name, namespace=name, spec={"nodes": 3, **spec}, target=local_target,
                                 actor="test").obj
        outcome = settle(cluster, timeout=30)
        assert outcome.state == "Running", cluster.status
        return cluster
    return make


@pytest.fixture
def make_database(make_cluster, team):
    from databases.services import create_database

    def make(name: str = "cache", cluster=None, **spec):
        cluster = cluster or make_cluster()
        database = create_database(cluster=cluster, name=name, spec={"memorySize": "100MB", **spec}, team=team,
                                   actor="test").obj
        outcome = settle(database)
        assert outcome.state == "active", database.status
        return database
    return make


def settle(obj, timeout: float = 60):
    """Reconcile in the foreground until settled; prints each step (shown by pytest when a test fails)."""
    from core.errors import TargetError
    from engine.reconcile import Outcome, reconcile

    started = time.monotonic()
    while True:
        try:
            outcome = reconcile(obj.kind, obj.pk)
        except TargetError as exc:
            outcome = Outcome(state="Error", settled=False, error=str(exc))
        print(f"{time.monotonic() - started:6.2f}s {obj.kind} {obj.name}: {outcome.state} {outcome.error}")
        if outcome.settled or time.monotonic() - started > timeout:
            break
        time.sleep(0.2)
    obj.refresh_from_db()
    return outcome
