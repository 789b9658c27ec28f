"""Celery entry points: thin wrappers that carry ids, never objects."""
from __future__ import annotations

import logging

from celery import shared_task

from core.errors import InternalError, TargetError
from core.locks import LockBusy

from .reconcile import reconcile
from .sweep import reconcile_everything as sweep_everything

log = logging.getLogger(__name__)

REQUEUE_SECONDS = 2
MAX_BACKOFF_SECONDS = 300
MAX_INTERNAL_RETRIES = 5  # 2 + 4 + 8 + 16 + 32 s


def backoff_seconds(retries: int) -> int:
    """Exponential backoff for a failing target: 2, 4, 8 ... capped at five minutes."""
    return min(2 ** (retries + 1), MAX_BACKOFF_SECONDS)


def retry_countdown(retries: int, error: TargetError) -> float:
    """The backoff, or longer when the target said when to come back (429 Retry-After)."""
    return max(backoff_seconds(retries), error.retry_after or 0)


@shared_task(bind=True, max_retries=None, acks_late=True, ignore_result=True)
def reconcile_object(self, kind: str, pk: int) -> str:
    try:
        outcome = reconcile(kind, pk, lock_wait=5)
    except LockBusy:
        # Someone else holds it; look again shortly so this change is not lost.
        raise self.retry(countdown=REQUEUE_SECONDS) from None
    except TargetError as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries, exc)) from None
    except InternalError as exc:
        # A bug does not go away by retrying: a few tries (the cause may be a race), then the periodic
        # pass is what looks again. The traceback was logged once by the reconciler.
        if self.request.retries >= MAX_INTERNAL_RETRIES:
            log.warning("giving up on %s %s after %d tries: %s", kind, pk, self.request.retries + 1, exc)
            return ""
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from None
    if not outcome.settled:
        reconcile_object.apply_async((kind, pk), countdown=REQUEUE_SECONDS)
    return outcome.state


@shared_task(ignore_result=True)
def reconcile_everything() -> dict:
    """Periodic drift correction over every target (beat)."""
    return sweep_everything()
