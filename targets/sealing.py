"""Encryption at rest for connection secrets (a target's kubeconfig): `seal` before saving, `unseal` to use.

Fernet (AES-128-CBC + HMAC-SHA256) with the key from `CONTROLPLANE_ENCRYPTION_KEY` (a Fernet key,
`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`), or,
when unset, one derived from `SECRET_KEY`. The one place that encrypts; nothing else sees the key.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from core.errors import TargetError


class UnsealError(TargetError):
    """The stored value cannot be decrypted with the configured key (the key changed?)."""


def _fernet() -> Fernet:
    key = getattr(settings, "CONTROLPLANE_ENCRYPTION_KEY", "") or ""
    if not key:
        key = base64.urlsafe_b64encode(hashlib.sha256(f"sealing:{settings.SECRET_KEY}".encode()).digest()).decode()
    return Fernet(key.encode())


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode() if text else ""


def unseal(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UnsealError("a stored secret cannot be decrypted: was CONTROLPLANE_ENCRYPTION_KEY changed?") from exc
