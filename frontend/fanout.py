"""One channel-layer subscription per group per process, shared by every dashboard socket in it.

The usual Channels pattern (each socket joins the group with its own channel) makes the Redis layer
hand every group message to every socket's channel, each through its own receive loop: with a
thousand sockets on one page that alone takes about half a millisecond per socket. Here a process
receives each group once and hands the message to its sockets directly, encoding the JSON frame once.
Filtering (who may see what) stays with each socket (`StatusConsumer.deliver`).
"""
from __future__ import annotations

import asyncio
import json
import logging
import weakref
from functools import cached_property
from typing import Protocol

from channels.layers import get_channel_layer

from .display import summarize

log = logging.getLogger(__name__)

# Sends only queue data; the server writes it when the event loop gets control. Handing control back
# every so many sockets lets the first pages update while the rest are still being queued.
YIELD_EVERY = 50
# The layer forgets group members after `group_expiry` (a day by default); members are re-added well before.
REFRESH_SECONDS = 3600


class Frame:
    """A group message and, computed once for all sockets, the text frame pages receive."""

    def __init__(self, message: dict):
        self.message = message

    @property
    def subject(self) -> dict:
        """The part that says whose message this is (kind, id, team)."""
        return self.message["object"] if self.message["type"] == "object.changed" else self.message

    @cached_property
    def text(self) -> str:
        message = self.message
        if message["type"] == "object.changed":
            payload = message["object"]
            return json.dumps({"type": "object.changed", "object": payload, "view": summarize(payload)})
        return json.dumps({key: message[key] for key in ("type", "kind", "id", "name", "event")})


class Listener(Protocol):
    async def deliver(self, frame: Frame) -> None: ...

    async def stream_lost(self) -> None:
        """The group can no longer be received; the socket should close so its page reconnects and refetches."""


class GroupHub:
    def __init__(self, layer):
        self.layer = layer
        self.members: dict[str, set[Listener]] = {}
        self._channels: dict[str, str] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._lock = asyncio.Lock()
        self._refresher: asyncio.Task | None = None

    async def join(self, group: str, listener: Listener) -> None:
        async with self._lock:
            if self._refresher is None or self._refresher.done():
                self._refresher = asyncio.create_task(self._refresh())
            if group not in self.members:
                channel = await self.layer.new_channel()
                await self.layer.group_add(group, channel)
                self.members[group] = set()
                self._channels[group] = channel
                self._tasks[group] = asyncio.create_task(self._receive(group, channel))
            self.members[group].add(listener)

    async def leave(self, group: str, listener: Listener) -> None:
        async with self._lock:
            members = self.members.get(group)
            if members is None:
                return
            members.discard(listener)
            if not members:
                await self._drop(group)

    async def _drop(self, group: str) -> None:
        del self.members[group]
        if not self.members and self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None
        task = self._tasks.pop(group)
        if task is not asyncio.current_task():
            task.cancel()
        channel = self._channels.pop(group)
        try:
            await self.layer.group_discard(group, channel)
        except Exception as exc:  # the layer is down; the membership expires on its own
            log.warning("could not leave group %s: %s", group, exc)

    async def _refresh(self) -> None:
        """Keep this process's memberships alive however long a page stays open."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for group, channel in list(self._channels.items()):
                try:
                    await self.layer.group_add(group, channel)
                except Exception as exc:  # the receive loop notices an outage and tells the pages
                    log.warning("could not refresh group %s: %s", group, exc)

    async def _receive(self, group: str, channel: str) -> None:
        try:
            while True:
                frame = Frame(await self.layer.receive(channel))
                for index, listener in enumerate(list(self.members.get(group, ()))):
                    if index and index % YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # let the server write what is queued before going on
                    try:
                        await listener.deliver(frame)
                    except Exception:  # one broken socket must not starve the others
                        log.exception("delivering to a dashboard socket failed")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("lost the stream of group %s: %s; closing its sockets so pages reconnect", group, exc)
            async with self._lock:
                listeners = list(self.members.get(group, ()))
                if group in self.members:
                    await self._drop(group)
            for listener in listeners:
                await listener.stream_lost()


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub() -> GroupHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = GroupHub(get_channel_layer())
    return _hubs[loop]
