"""Celery tasks of the Kubernetes target."""
from __future__ import annotations

from celery import shared_task

from .rigger import follow_masters as follow_all_masters


@shared_task(ignore_result=True)
def follow_masters() -> int:
    """The services rigger's fast loop: move database Services to the master the sentinels report."""
    return follow_all_masters()
