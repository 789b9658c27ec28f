"""The per-process group hub against a real Redis of its own (so the test can stop it)."""
from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer

from controlplane.settings import channel_layer_host
from frontend.fanout import Frame, GroupHub
from tests.servers import redis_server

pytestmark = pytest.mark.asyncio

CHANGE = {"type": "object.changed", "object": {"kind": "cluster", "id": 1, "name": "main", "team": None,
                                               "generation": 1, "status": {"state": "Running"}, "spec": {}}}


class RecordingSocket:
    """A listener that keeps what it was handed (or fails, to show others are not starved)."""

    def __init__(self, broken: bool = False):
        self.frames: list[Frame] = []
        self.lost = asyncio.Event()
        self.broken = broken

    async def deliver(self, frame: Frame) -> None:
        if self.broken:
            raise RuntimeError("socket already gone")
        self.frames.append(frame)

    async def stream_lost(self) -> None:
        self.lost.set()


async def wait_for(predicate, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_one_subscription_feeds_every_socket_and_a_broken_one_starves_nobody():
    with redis_server() as url:
        layer = RedisChannelLayer(hosts=[channel_layer_host(url)])
        hub = GroupHub(layer)
        broken, first, second = RecordingSocket(broken=True), RecordingSocket(), RecordingSocket()
        for socket in (broken, first, second):
            await hub.join("cluster-1", socket)
        await layer.group_send("cluster-1", CHANGE)
        await wait_for(lambda: first.frames and second.frames)
        assert first.frames[0] is second.frames[0]  # encoded once
        assert '"view": {"key": "cluster-1", "state": "Running"' in first.frames[0].text
        for socket in (broken, first, second):
            await hub.leave("cluster-1", socket)
        assert hub.members == {}
        await layer.flush()


async def test_losing_redis_closes_the_sockets_so_pages_reconnect_and_refetch():
    socket = RecordingSocket()
    with redis_server() as url:
        layer = RedisChannelLayer(hosts=[channel_layer_host(url)])
        hub = GroupHub(layer)
        await hub.join("database-7", socket)
    # the server is gone now
    await asyncio.wait_for(socket.lost.wait(), timeout=10)
    assert hub.members == {}
