"""The errors every layer speaks: bad input, a stale write, a target outage, an unrealisable spec.

They sit at the bottom so that validators, write paths, drivers and surfaces share them without
importing each other.
"""
from __future__ import annotations

from redis.exceptions import RedisError


class SpecError(Exception):
    """Invalid input. `errors` maps a field path (e.g. "spec.memorySize", "name") to messages."""

    def __init__(self, errors: dict[str, list[str]], warnings: list[str] | None = None):
        self.errors = errors
        self.warnings = warnings or []
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class StaleGeneration(Exception):
    """The write was based on an older generation than the stored one (HTTP 409)."""

    def __init__(self, expected: int, actual: int):
        self.expected, self.actual = expected, actual
        super().__init__(f"the object changed since generation {expected}; it is now at generation {actual}. "
                         "Reload and apply your change again.")


class TargetError(Exception):
    """The target could not be reached or refused a change; the reconcile is retried with backoff.

    `retry_after` (seconds) is the target's own word on when to try again (HTTP 429 Retry-After).
    `happenings` (core.drivers.Happening): what the failing pass had done before, still for the timeline.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.happenings: list = []


class SpecNotRealisable(Exception):
    """The stored spec can no longer be realised on this target (status `Invalid`, no retry)."""


# What a driver may let through that still means "the target failed", not "the code is wrong": a socket
# that would not connect or timed out, a Redis that refused. Anything else is an InternalError.
OUTAGES: tuple[type[Exception], ...] = (OSError, RedisError)


class InternalError(Exception):
    """A bug, not an outage: a driver raised something other than a target error.

    Recorded as status `Error` with reason `InternalError` and the exception's type, logged once with
    its traceback, and retried a few times with backoff (a bug does not fix itself by retrying).
    """
