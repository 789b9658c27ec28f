"""How a write asks for a reconcile without importing the engine that runs it.

The engine registers its `request_reconcile` in `EngineConfig.ready`; the write path (targets/writes.py)
calls `request_reconcile(obj)` after a spec change.
"""
from __future__ import annotations

from collections.abc import Callable

_requester: Callable[[object], None] | None = None


def set_reconcile_requester(requester: Callable[[object], None]) -> None:
    global _requester
    _requester = requester


def request_reconcile(obj) -> None:
    if _requester is None:
        raise RuntimeError("no reconcile requester registered; is the engine app installed?")
    _requester(obj)
