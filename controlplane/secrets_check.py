"""Refuse to run production on development secrets.

`make run` (DJANGO_DEBUG on) and the tests use fixed development keys so they work out of the box.
Everything else (Daphne, Celery, any `manage.py` command with DEBUG off) must be given its own
`DJANGO_SECRET_KEY` and `CONTROLPLANE_ENCRYPTION_KEYS`; settings call `refuse_development_secrets`
so a missing or weak one stops the process at start with a message that says what to set.
"""
from __future__ import annotations

import base64
import binascii

from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_KEY = "insecure-dev-key-set-DJANGO_SECRET_KEY-in-production"
# A valid Fernet key that is public (it is in this file): only for DEBUG and tests.
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktbm90LXNlY3I="
MIN_SECRET_KEY_LENGTH = 50

MAKE_SECRET_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
MAKE_ENCRYPTION_KEY = "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"


def split_keys(value: str) -> list[str]:
    """`CONTROLPLANE_ENCRYPTION_KEYS`: comma-separated, newest first."""
    return [key.strip() for key in value.split(",") if key.strip()]


def is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def secret_problems(secret_key: str, encryption_keys: list[str]) -> list[str]:
    """What is wrong with the secrets for a production process (empty: fine)."""
    problems = []
    if secret_key == DEV_SECRET_KEY or not secret_key:
        problems.append(f"DJANGO_SECRET_KEY is not set. Generate one with: {MAKE_SECRET_KEY}")
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5:
        problems.append(f"DJANGO_SECRET_KEY is too short or too simple (at least {MIN_SECRET_KEY_LENGTH} "
                        f"characters). Generate one with: {MAKE_SECRET_KEY}")
    if not encryption_keys or DEV_ENCRYPTION_KEY in encryption_keys:
        problems.append("CONTROLPLANE_ENCRYPTION_KEYS is not set (it encrypts database passwords at rest). "
                        f"Generate a key with: {MAKE_ENCRYPTION_KEY}")
    else:
        bad = [i + 1 for i, key in enumerate(encryption_keys) if not is_fernet_key(key)]
        if bad:
            problems.append(f"CONTROLPLANE_ENCRYPTION_KEYS: key {', '.join(map(str, bad))} is not a Fernet key "
                            f"(32 url-safe base64-encoded bytes). Generate one with: {MAKE_ENCRYPTION_KEY}")
    return problems


def refuse_development_secrets(secret_key: str, encryption_keys: list[str]) -> None:
    problems = secret_problems(secret_key, encryption_keys)
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with DJANGO_DEBUG off on development secrets:\n  - " + "\n  - ".join(problems)
            + "\n(`make run` sets DJANGO_DEBUG=1 and uses development keys; see docs/security.md.)")
