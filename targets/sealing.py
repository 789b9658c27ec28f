"""Encryption at rest for connection secrets (a target's kubeconfig): `seal` before saving, `unseal` to use.

The same keys as every other secret at rest (`targets/encryption.py`, CONTROLPLANE_ENCRYPTION_KEYS;
`rotate_encryption_key` re-encrypts sealed values too). A value that no configured key opens is a
`TargetError`, so a reconcile records it on the object instead of crashing.
"""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from core.errors import TargetError

from .encryption import decrypt, encrypt


class UnsealError(TargetError):
    """The stored value cannot be decrypted with the configured keys (a key was dropped?)."""


def seal(text: str) -> str:
    return encrypt(text) if text else ""


def unseal(token: str) -> str:
    if not token:
        return ""
    try:
        return decrypt(token)
    except ImproperlyConfigured as exc:
        raise UnsealError(str(exc)) from None
