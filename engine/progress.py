"""Progress of a long step (a slot migration), written into status while the reconcile still runs.

A reconcile writes its status once, at the end; a reshard of many keys takes seconds to minutes, so the
driver reports how far it got through `report(obj, field, value)`: `status[field]` is stored and streamed
to every open page now. The next full status write (the end of the reconcile) drops the field again,
because a status is rebuilt from what is observed.
"""
from __future__ import annotations

import time

from timeline.broadcast import publish_status

MIN_INTERVAL = 0.5  # seconds between two reports of one object (the first and the last always go out)

_last: dict[tuple[str, int], float] = {}


def report(obj, field: str, value: dict, *, final: bool = False) -> None:
    """Store `status[field] = value` on the row (only that field) and publish the object."""
    key = (obj.kind, obj.pk)
    now = time.monotonic()
    if not final and key in _last and now - _last[key] < MIN_INTERVAL:
        return
    _last[key] = now
    status = {**(obj.status or {}), field: value}
    type(obj).objects.filter(pk=obj.pk).update(status=status)
    obj.status = status
    publish_status(obj)
