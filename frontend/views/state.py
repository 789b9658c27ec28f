"""Current state of the objects on a page, for refetching after a websocket (re)connects."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from core import kinds
from timeline.broadcast import event_payload, object_payload
from timeline.models import Event

from ..display import summarize
from ..kinds import KINDS
from .common import TIMELINE_LENGTH, small_int

MAX_OBJECTS = 200


def _parse_keys(values: list[str]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {name: set() for name in KINDS}
    for key in values[:MAX_OBJECTS]:
        kind, _, pk = key.partition("-")
        if kind in KINDS and small_int(pk) is not None:
            wanted[kind].add(small_int(pk))
    return wanted


@login_required
def state(request: HttpRequest) -> JsonResponse:
    """`?o=database-5&o=cluster-1&events=database-5`: views of the objects the user may see, the keys
    that are gone (or not theirs), and the latest events of the `events` objects."""
    wanted = _parse_keys(request.GET.getlist("o"))
    objects, found = [], set()
    for name, pks in wanted.items():
        if pks:
            for obj in KINDS[name].queryset(request.user).filter(pk__in=pks):
                payload = object_payload(obj)
                objects.append({"object": payload, "view": summarize(payload)})
                found.add(f"{name}-{obj.pk}")
    requested = {f"{name}-{pk}" for name, pks in wanted.items() for pk in pks}
    events = {}
    for name, pks in _parse_keys(request.GET.getlist("events")).items():
        for pk in sorted(pks)[:5]:
            events[f"{name}-{pk}"] = [event_payload(e) for e in visible_events(request.user, name, pk)]
    return JsonResponse({"objects": objects, "missing": sorted(requested - found), "events": events})


def visible_events(user, kind: str, pk: int) -> list[Event]:
    """An object's latest events, also after it was deleted: the timeline outlives the object, and its
    `team` says who may read it (the same rule the websocket applies)."""
    events = Event.objects.filter(object_kind=kind, object_id=pk)
    if not user.is_staff and kinds.get(kind).team_scoped:
        events = events.filter(team__members=user)
    return list(events[:TIMELINE_LENGTH])
