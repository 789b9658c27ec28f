"""The scripted path on the local target: REC/REDB YAML -> `apply` -> `reconcile --wait` -> redis-cli."""
from __future__ import annotations

import io
import subprocess

from django.core.management import call_command

from ..documents import rec_and_redb

YAML = rec_and_redb("rec", "sessions", {"redisEnterpriseCluster": {"name": "rec"}, "memorySize": "100MB",
                                         "replication": True, "persistence": "aofEverySecond"})


def test_yaml_apply_then_reconcile_wait_gives_a_working_database(local_target, team, tmp_path):
    manifest = tmp_path / "redis.yaml"
    manifest.write_text(YAML)
    call_command("apply", "-f", str(manifest), "--team", team.name, stdout=io.StringIO())
    call_command("reconcile", "--wait", "--timeout", "90", stdout=io.StringIO())

    from databases.models import Database

    database = Database.objects.get(name="sessions")
    assert database.state == "active", database.status
    port = database.status["endpoint"].rsplit(":", 1)[1]
    answer = subprocess.run(["redis-cli", "-p", port, "-a", database.password, "--no-auth-warning", "SET", "a", "1"],
                            capture_output=True, text=True, timeout=10)
    assert answer.stdout.strip() == "OK"
