"""Current state of the objects on a page, for refetching after a websocket (re)connects."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from timeline.broadcast import object_payload

from ..display import summarize
from ..kinds import KINDS
from .common import timeline

MAX_OBJECTS = 200


def _parse_keys(values: list[str]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {name: set() for name in KINDS}
    for key in values[:MAX_OBJECTS]:
        kind, _, pk = key.partition("-")
        if kind in KINDS and pk.isdigit():
            wanted[kind].add(int(pk))
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
        for obj in KINDS[name].queryset(request.user).filter(pk__in=list(pks)[:5]):
            events[f"{name}-{obj.pk}"] = [
                {"id": e.pk, "time": e.time.isoformat(), "type": e.type, "reason": e.reason,
                 "message": e.message, "actor": e.actor} for e in timeline(obj)]
    return JsonResponse({"objects": objects, "missing": sorted(requested - found), "events": events})
