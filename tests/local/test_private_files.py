"""Nothing under the local target's var/ is readable by other users: configs hold passwords.

Redis's own CONFIG REWRITE and the sentinels' config rewrites create files with the umask of the
process, so this checks real processes after a real live change, not only what the control plane wrote.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from targets.private_files import _made_private
from timeline.models import Event

from .conftest import settle


def too_open(root: Path) -> list[str]:
    """Every path under `root` with a group or other permission bit."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(root)} {oct(mode & 0o777)}")
    return found


def test_files_stay_private_through_config_rewrite(make_database, tmp_path):
    from databases.services import update_database

    database = make_database(replication=True)
    update_database(database, spec={**database.spec, "memorySize": "200MB"}, actor="test")
    settle(database)
    assert Event.objects.filter(object_kind="database", object_id=database.pk, reason="ConfigApplied").exists()

    var = tmp_path / "var"
    configs = list(var.rglob("redis.conf"))
    assert configs and all("requirepass" in path.read_text() for path in configs)
    assert "auth-pass" in "".join(path.read_text() for path in var.rglob("sentinel.conf"))
    assert too_open(var) == []


def test_a_tree_from_before_is_made_private_when_adopted(make_database, tmp_path):
    database = make_database()
    var = tmp_path / "var"
    for path in [var, *var.rglob("*")]:
        if not path.is_symlink() and not path.is_socket():
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    assert too_open(var)

    _made_private.clear()  # a restarted control plane adopts the running processes
    settle(database)
    assert too_open(var) == []
