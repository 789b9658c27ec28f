"""Writing to an object's timeline. Secrets never go into a message."""
from __future__ import annotations

from .models import Event

CONTROLPLANE_ACTOR = "controlplane"


def record_event(obj, reason: str, message: str = "", *, type: str = Event.NORMAL,
                 actor: str = CONTROLPLANE_ACTOR) -> Event:
    """Append an event to `obj`'s timeline and stream it to open dashboards after commit."""
    from .broadcast import publish_event

    event = Event.objects.create(
        object_kind=obj.kind,
        object_id=obj.pk,
        object_name=obj.name,
        team=getattr(obj, "team", None),
        type=type,
        reason=reason,
        message=message,
        actor=actor,
    )
    publish_event(obj, event)
    return event


def actor_name(user) -> str:
    return getattr(user, "username", "") or CONTROLPLANE_ACTOR
