"""The dashboard's websocket: live status and events of the objects a user may see.

One consumer serves every page. `/ws/overview/` follows the list pages (staff: everything; a team
member: the clusters and their teams' databases); `/ws/<kind>/<id>/` follows one object. Database
messages also reach their cluster's group, so every message is checked against the user's teams
before it is sent; nothing else is trusted from the group. Messages carry no secrets (see
`timeline.broadcast`). Groups are received once per process and shared (`fanout.GroupHub`).
"""
from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core import kinds

from .fanout import Frame, hub
from .kinds import KINDS

# Close codes in the application range (4000-4999), so the page knows not to retry. The socket is
# accepted before it is closed with them: a rejected handshake reaches browsers only as code 1006.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# The server lost the stream (the channel layer is down): the page retries and refetches.
CLOSE_STREAM_LOST = 1011
# The user's teams changed: what the socket may show was fixed when it opened, so it closes and the page
# reconnects at once, with the rights the user has now (or is refused with 4403).
CLOSE_MEMBERSHIP_CHANGED = 4409


class StatusConsumer(AsyncJsonWebsocketConsumer):
    groups: list[str] = []
    # Sockets get group messages from the process-wide hub, so none needs a channel of its own on the
    # layer (a thousand idle receive loops time out against Redis under load). No layer is configured
    # under this alias, and for such an alias Channels gives a consumer no channel at all.
    channel_layer_alias = "none: dashboard sockets use frontend.fanout"

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.subscribed: list[str] = []
        self.stale = False
        if self.user is None or not self.user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        self.is_staff = bool(self.user.is_staff)
        self.team_ids = await self._team_ids()
        groups = await self._groups_for_route()
        if groups is None:
            await self.refuse(CLOSE_FORBIDDEN)
            return
        await self.accept()
        for group in groups:
            await hub().join(group, self)
            self.subscribed.append(group)
        await self.send_json({"type": "subscribed", "groups": len(groups)})

    async def refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        for group in self.subscribed:
            await hub().leave(group, self)
        self.subscribed = []

    async def receive_json(self, content, **kwargs) -> None:
        """Pages only listen; a ping gets a pong so clients can check the socket is alive."""
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    # -- group messages, handed over by the hub ------------------------------------------------------
    async def deliver(self, frame: Frame) -> None:
        if self.stale:
            return
        if frame.message["type"] == "membership.changed":
            if self.user.pk in frame.message["users"]:
                # Nothing more is sent from here on; the server's disconnect then leaves the groups.
                self.stale = True
                await self.close(code=CLOSE_MEMBERSHIP_CHANGED)
        elif self.may_see(frame.subject):
            await self.send(text_data=frame.text)

    async def stream_lost(self) -> None:
        self.subscribed = []
        await self.close(code=CLOSE_STREAM_LOST)

    def may_see(self, payload: dict) -> bool:
        """Every member may see clusters; a database only its team's members (and staff)."""
        if self.is_staff or not kinds.get(payload.get("kind")).team_scoped:
            return True
        return payload.get("team") in self.team_ids

    # -- subscription ------------------------------------------------------------------------------
    async def _groups_for_route(self) -> list[str] | None:
        route = self.scope["url_route"]["kwargs"]
        kind = route.get("kind")
        if kind is None:
            if self.is_staff:
                return ["staff"]
            return ["clusters", *(f"team-{team_id}" for team_id in sorted(self.team_ids))]
        pk = int(route["pk"])
        if not await self._may_open(kind, pk):
            return None
        return [f"{kind}-{pk}"]

    @database_sync_to_async
    def _team_ids(self) -> set[int]:
        return set(self.user.teams.values_list("pk", flat=True))

    @database_sync_to_async
    def _may_open(self, kind: str, pk: int) -> bool:
        return KINDS[kind].queryset(self.user).filter(pk=pk).exists()
