"""`manage.py rotate_encryption_key`: re-encrypt every stored secret with the newest key.

Put the new key first in CONTROLPLANE_ENCRYPTION_KEYS (keep the old ones after it), restart, run
this, then drop the old keys (docs/security.md).
"""
from __future__ import annotations

from django.core.management.base import BaseCommand

from targets.encryption import encrypted_fields, rotate_all


class Command(BaseCommand):
    help = "Re-encrypt every stored password with the first key of CONTROLPLANE_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        changed = rotate_all()
        columns = ", ".join(f"{model._meta.label}.{column}" for model, column in encrypted_fields())
        self.stdout.write(f"re-encrypted {changed} value(s) in {columns} with the first key; "
                          "keys after the first may now be removed from CONTROLPLANE_ENCRYPTION_KEYS")
