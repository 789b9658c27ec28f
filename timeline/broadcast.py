"""Streaming status and events to dashboards through the Channels layer, after commit.

Group names: `cluster-<id>`, `database-<id>`, `team-<id>` (a team's list pages), `clusters` (every
cluster, for the clusters list every member may see) and `staff` (everything). A database also goes to
its cluster's group, so consumers filter database messages by the `team` they carry. Messages carry no
secrets: only status, spec summary and events.
"""
from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core import kinds

log = logging.getLogger(__name__)


def groups_for(obj) -> list[str]:
    groups = [f"{obj.kind}-{obj.pk}", "staff"]
    if getattr(obj, "team_id", None):
        groups.append(f"team-{obj.team_id}")
    kind = kinds.of(obj)
    if kind.parent:
        groups.append(f"{kind.parent}-{getattr(obj, kind.parent + '_id')}")
    if not kind.team_scoped:
        groups.append(kind.plural)
    return groups


def _send(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, message)
    except Exception as exc:  # a dashboard outage must never fail a reconcile
        log.warning("could not publish to %s: %s", groups, exc)


def object_payload(obj) -> dict:
    payload = {
        "kind": obj.kind,
        "id": obj.pk,
        "name": obj.name,
        "team": getattr(obj, "team_id", None),
        "generation": obj.generation,
        "status": obj.status,
        "deleting": obj.deletion_requested_at is not None,
    }
    kind = kinds.of(obj)
    payload["spec"] = kind.summary(obj)
    if kind.parent:
        parent = getattr(obj, kind.parent)
        payload[kind.parent] = parent.name
        payload[f"{kind.parent}Id"] = parent.pk
    return payload


def publish_status(obj, deleted: bool = False) -> None:
    """Tell every subscribed page that `obj` changed (or is gone)."""
    payload = object_payload(obj)
    payload["deleted"] = deleted
    groups = groups_for(obj)
    transaction.on_commit(lambda: _send(groups, {"type": "object.changed", "object": payload}))


def event_payload(event) -> dict:
    """An event as pages receive it, live (websocket) or on a refetch (state endpoint)."""
    return {"id": event.pk, "time": event.time.isoformat(), "type": event.type, "reason": event.reason,
            "message": event.message, "actor": event.actor}


def publish_event(obj, event) -> None:
    payload = {
        "kind": obj.kind, "id": obj.pk, "name": obj.name, "team": getattr(obj, "team_id", None),
        "event": event_payload(event),
    }
    groups = groups_for(obj)
    transaction.on_commit(lambda: _send(groups, {"type": "object.event", **payload}))



def publish_membership_change(user_ids: list[int], groups: list[str]) -> None:
    """Tell these users' dashboard sockets in `groups` that their teams changed (they close and reconnect)."""
    if user_ids and groups:
        users = sorted(set(user_ids))
        transaction.on_commit(lambda: _send(groups, {"type": "membership.changed", "users": users}))
