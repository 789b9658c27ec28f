"""The control plane's encrypted store of named secrets (backups/models.py StorageSecret), as core.secrets reads
it when the target keeps no secrets of its own."""
from __future__ import annotations

from .models import StorageSecret


def stored_values(name: str) -> dict[str, str]:
    stored = StorageSecret.objects.filter(name=name).first()
    return stored.values() if stored else {}
