"""Waiting for the control plane's threads in tests."""
from __future__ import annotations

import time

from django.db import OperationalError


def eventually(check, timeout: float = 60.0, interval: float = 0.05):
    """`check()` until true (bounded); the test database (SQLite in memory, shared with the control plane's
    threads) may answer "table is locked" for a moment, which counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except OperationalError:
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
