"""Celery entry points of backups (beat runs `run_due_backups` with the periodic pass)."""
from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def run_due_backups() -> int:
    """Back up every database whose `spec.backup.interval` has passed since its last backup."""
    return services.run_due_backups()


@shared_task(ignore_result=True)
def follow_replica_sources() -> dict:
    """Keep the follower of every database with spec.replicaSources in step; stop the ones no longer wanted."""
    return services.follow_replica_sources()
