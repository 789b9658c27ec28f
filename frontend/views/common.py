"""What every dashboard page shares: the display view of an object, its timeline, pagination."""
from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from timeline.broadcast import object_payload
from timeline.models import Event

from ..display import summarize

PAGE_SIZE = 50
TIMELINE_LENGTH = 50
# Row ids and generations are 64-bit: a longer digit string is no id (and would overflow the database).
MAX_ID_DIGITS = 18


def small_int(text: str) -> int | None:
    """`text` as a row id or generation if it is one (ASCII digits, fits 64 bits), else None."""
    if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None


def view_of(obj) -> dict:
    """The same summary the websocket sends, so the first render and live updates agree."""
    return summarize(object_payload(obj))


def timeline(obj, limit: int = TIMELINE_LENGTH) -> list[Event]:
    return list(Event.objects.filter(object_kind=obj.kind, object_id=obj.pk)[:limit])


def paginate(request: HttpRequest, queryset, size: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def with_views(objects) -> list[tuple[object, dict]]:
    return [(obj, view_of(obj)) for obj in objects]
