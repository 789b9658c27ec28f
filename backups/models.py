"""Backup runs of a database, and the S3 credentials a REDB's `backup.s3.awsSecretName` names."""
from __future__ import annotations

import json

from django.db import models

from targets.encryption import EncryptedTextField


class BackupRun(models.Model):
    """One backup attempt (periodic or on demand). The backup itself is its manifest in storage."""

    database = models.ForeignKey("databases.Database", on_delete=models.CASCADE, related_name="backup_runs")
    name = models.CharField(max_length=40, help_text="The backup's id: its folder name in storage.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")
    size = models.BigIntegerField(default=0, help_text="Bytes of RDB data.")
    locations = models.JSONField(default=list, blank=True)
    actor = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"backup {self.name} of {self.database_id} ({'ok' if self.ok else self.error or 'running'})"


class StorageSecret(models.Model):
    """What `awsSecretName` names on the local target: access key id, secret key, optional endpoint URL and
    region; or what a `replicaSources` SECRET names: a `uri`. Stored encrypted (targets/encryption.py); created
    with `manage.py backup_secret`; never shown back."""

    name = models.CharField(max_length=253, unique=True)
    data = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"storage secret {self.name}"

    def values(self) -> dict[str, str]:
        return json.loads(self.data)
