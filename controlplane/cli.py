"""`manage.py`'s answer when the control plane's own Redis is not running: one line, not a traceback."""
from __future__ import annotations

import os

import redis.exceptions

try:
    from kombu.exceptions import OperationalError as BrokerError
except ImportError:  # pragma: no cover - kombu comes with celery
    BrokerError = redis.exceptions.ConnectionError

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, BrokerError)


def redis_down_message(exc: BaseException) -> str | None:
    """The one-line message for an exception caused by the control plane's Redis being unreachable, else None."""
    seen = exc
    while seen is not None and not isinstance(seen, UNREACHABLE):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return None
    from django.conf import settings

    url = getattr(settings, "REDIS_URL", None) or os.environ.get("REDIS_URL", "")
    reason = str(seen).splitlines()[0] if str(seen) else type(seen).__name__
    return (f"error: the control plane's Redis at {url} is not running or not reachable ({reason}). "
            "Start it: `make run` starts everything including it (port 6390), or run "
            "`redis-server --port 6390`; elsewhere, set REDIS_URL to a running Redis.")
