"""A command that needs the control plane's Redis, with that Redis not running: one clear line, exit 1."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_reconcile_without_redis_says_what_is_not_running_and_how_to_start_it(tmp_path):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "controlplane.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'cp.sqlite3'}", "CONTROLPLANE_VAR_DIR": str(tmp_path / "var"),
           "REDIS_URL": closed, "CONTROLPLANE_RECONCILE_MODE": "manual"}
    assert manage("migrate", "-v0", env=env).returncode == 0
    assert manage("apply", "-f", "examples/rec.yaml", env=env).returncode == 0

    result = manage("reconcile", "rec", env=env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "redis.exceptions" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert f"Redis at {closed} is not running" in lines[0]
    assert "make run" in lines[0] and "redis-server --port 6390" in lines[0] and "REDIS_URL" in lines[0]
