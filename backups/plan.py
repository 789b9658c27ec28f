"""When a database's next backup is due and which stored backups retention removes. Pure functions."""
from __future__ import annotations

from datetime import datetime, timedelta

RETRY_AFTER_FAILURE = timedelta(minutes=5)


def next_run(interval_seconds: int, last_success: datetime | None, last_attempt: datetime | None,
             last_failed: bool) -> datetime | None:
    """The time the next periodic backup is due; None means "now" (never attempted).

    After a success the next one is one interval later; after a failure it is retried sooner
    (five minutes, or the interval when that is shorter), never in a tight loop."""
    if last_attempt is None:
        return None
    if last_failed:
        return last_attempt + min(timedelta(seconds=interval_seconds), RETRY_AFTER_FAILURE)
    return (last_success or last_attempt) + timedelta(seconds=interval_seconds)


def is_due(interval_seconds: int | None, last_success: datetime | None, last_attempt: datetime | None,
           last_failed: bool, now: datetime) -> bool:
    """Whether a periodic backup should start at `now` (no interval: never)."""
    if not interval_seconds:
        return False
    due = next_run(interval_seconds, last_success, last_attempt, last_failed)
    return due is None or now >= due


def expired(names: list[str], retain: int) -> list[str]:
    """Backups to delete so `retain` remain: the oldest first. Names sort by time (see archive.backup_name)."""
    ordered = sorted(names)
    return ordered[:max(0, len(ordered) - max(1, retain))]
