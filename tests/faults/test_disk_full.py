"""The local target's data folder full (a small tmpfs): status says so in words, the spec stays, and the
database converges by itself once space is freed."""
from __future__ import annotations

import contextlib
import os
import subprocess

import pytest

from core.errors import TargetError
from engine.reconcile import reconcile
from targets import managed
from tests.local.conftest import TEST_VERSIONS, kill_everything_under, settle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_var_dir(tmp_path):
    mount_point = tmp_path / "var"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        kill_everything_under(mount_point)
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder) -> object:
    """Write a file until the folder is full; returns its path."""
    filler = folder / "filler"
    with contextlib.suppress(OSError), open(filler, "wb") as handle:
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return filler


def test_data_folder_full_shows_in_words_and_converges_once_space_is_freed(small_var_dir, team, settings):
    from clusters.services import create_cluster
    from databases.services import create_database
    from targets.models import Target

    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = dict(TEST_VERSIONS)
    target = Target.default()
    target.settings = {"var_dir": str(small_var_dir)}
    target.save()
    cluster = create_cluster(name="rec", namespace="rec", spec={"nodes": 3}, target=target, actor="test").obj
    assert settle(cluster, timeout=30).state == managed.RUNNING

    filler = fill(small_var_dir)
    database = create_database(cluster=cluster, name="cache", spec={"memorySize": "100MB"}, team=team,
                               actor="test").obj
    with pytest.raises(TargetError):
        reconcile("database", database.pk)
    database.refresh_from_db()
    assert database.state == managed.ERROR
    message = database.status["conditions"][0]["message"]
    assert "No space left on device" in message, message
    assert database.spec["memorySize"] == "100MB" and database.generation == 1

    filler.unlink()
    outcome = settle(database, timeout=60)
    database.refresh_from_db()
    assert outcome.state == managed.DB_ACTIVE, database.status
    assert database.status["observedGeneration"] == database.generation
