"""Production refuses development secrets; `check --deploy` says what TLS settings are missing.

Each case starts a real process (`manage.py`, the ASGI module Daphne loads, a Celery worker) with
a clean environment, as an operator would.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from controlplane.secrets_check import DEV_ENCRYPTION_KEY, DEV_SECRET_KEY
from tests.browser.stack import BASE_DIR

GOOD_SECRET = "production-" + "k3y-" * 12
GOOD_KEYS = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
SECRET_NAMES = ("DJANGO_SECRET_KEY", "CONTROLPLANE_ENCRYPTION_KEYS", "DJANGO_DEBUG", "DJANGO_HTTPS")


def run(args: list[str], tmp_path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SECRET_NAMES}
    clean.update(DJANGO_SETTINGS_MODULE="controlplane.settings", PYTHONPATH=str(BASE_DIR),
                 DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **env)
    return subprocess.run(args, cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=timeout)


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], tmp_path, **env)


@pytest.mark.parametrize("env, message", [
    ({}, "DJANGO_SECRET_KEY is not set"),
    ({"DJANGO_SECRET_KEY": DEV_SECRET_KEY, "CONTROLPLANE_ENCRYPTION_KEYS": GOOD_KEYS}, "DJANGO_SECRET_KEY is not set"),
    ({"DJANGO_SECRET_KEY": "short-key", "CONTROLPLANE_ENCRYPTION_KEYS": GOOD_KEYS}, "too short"),
    ({"DJANGO_SECRET_KEY": GOOD_SECRET}, "CONTROLPLANE_ENCRYPTION_KEYS is not set"),
    ({"DJANGO_SECRET_KEY": GOOD_SECRET, "CONTROLPLANE_ENCRYPTION_KEYS": DEV_ENCRYPTION_KEY},
     "CONTROLPLANE_ENCRYPTION_KEYS is not set"),
    ({"DJANGO_SECRET_KEY": GOOD_SECRET, "CONTROLPLANE_ENCRYPTION_KEYS": "not-a-key"}, "is not a Fernet key"),
])
def test_a_command_refuses_to_start_on_development_secrets(tmp_path, env, message):
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "Refusing to start with DJANGO_DEBUG off" in result.stderr and message in result.stderr


def test_daphne_and_celery_refuse_too(tmp_path):
    asgi = run([sys.executable, "-c", "import controlplane.asgi"], tmp_path)
    assert asgi.returncode != 0 and "DJANGO_SECRET_KEY is not set" in asgi.stderr
    worker = run([sys.executable, "-m", "celery", "-A", "controlplane", "worker", "--pool", "solo"], tmp_path,
                 timeout=90)
    assert worker.returncode != 0 and "DJANGO_SECRET_KEY is not set" in worker.stdout + worker.stderr


def test_debug_runs_on_development_secrets(tmp_path):
    result = manage(tmp_path, "check", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_check_deploy_asks_for_tls_settings_until_https_is_on(tmp_path):
    secrets = {"DJANGO_SECRET_KEY": GOOD_SECRET, "CONTROLPLANE_ENCRYPTION_KEYS": GOOD_KEYS}
    plain = manage(tmp_path, "check", "--deploy", **secrets)
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in plain.stderr + plain.stdout
    https = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", DJANGO_HTTPS="1",
                   DJANGO_HSTS_PRELOAD="1", **secrets)
    assert https.returncode == 0, https.stderr
