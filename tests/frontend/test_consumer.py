"""The status websocket, through the real ASGI app (auth, origin check) and the real Redis channel layer."""
from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from clusters.certificates import cluster_ca
from controlplane.asgi import application
from core.drivers import Condition, Observation
from engine.reconcile import write_status
from targets import managed
from timeline.record import record_event

from .conftest import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://127.0.0.1")


async def open_socket(path: str, user=None, origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def subscribed(path: str, user) -> WebsocketCommunicator:
    communicator = await open_socket(path, user)
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "subscribed"
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"]


@sync_to_async
def set_state(obj, state: str, message: str = "") -> None:
    conditions = [Condition("Ready", "False", "Waiting", message)] if message else []
    write_status(obj, Observation(state=state, conditions=conditions), obj.generation)


async def messages_until_quiet(communicator: WebsocketCommunicator, quiet: float = 0.5) -> list[dict]:
    received = []
    while not await communicator.receive_nothing(timeout=quiet):
        received.append(await communicator.receive_json_from())
    return received


async def test_a_socket_without_login_is_closed_as_unauthenticated(cluster):
    communicator = await open_socket("/ws/overview/")
    assert await close_code(communicator) == 4401


async def test_a_foreign_origin_is_refused(member, cluster):
    communicator = WebsocketCommunicator(application, "/ws/overview/",
                                         headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect(timeout=5)
    assert not connected


async def test_a_member_cannot_follow_another_teams_database(member, outsider, other_team, make_database):
    theirs = await sync_to_async(make_database)("search-cache", other_team)
    communicator = await open_socket(f"/ws/database/{theirs.pk}/", member)
    assert await close_code(communicator) == 4403


async def test_overview_streams_own_databases_and_clusters_but_not_other_teams(
        member, team, other_team, cluster, make_database):
    mine = await sync_to_async(make_database)("orders", team, port=12001)
    theirs = await sync_to_async(make_database)("search-cache", other_team, port=12002)
    communicator = await subscribed("/ws/overview/", member)

    await set_state(theirs, managed.DB_ACTIVE)
    await set_state(mine, managed.DB_ACTIVE)
    await set_state(cluster, managed.INITIALIZING, "starting sentinels")
    received = await messages_until_quiet(communicator)

    changed = [m for m in received if m["type"] == "object.changed"]
    assert [(m["object"]["kind"], m["object"]["name"]) for m in changed] == [
        ("database", "orders"), ("cluster", "main")]
    assert changed[0]["view"]["state"] == "active" and changed[0]["view"]["tone"] == "ok"
    assert changed[1]["view"] == {**changed[1]["view"], "state": "Initializing", "tone": "busy",
                                  "progress": "starting sentinels"}
    names = {m["name"] for m in received if m["type"] == "object.event"}
    assert names == {"orders", "main"}
    await communicator.disconnect()


async def test_cluster_page_filters_databases_of_other_teams(member, team, other_team, cluster, make_database):
    mine = await sync_to_async(make_database)("orders", team, port=12001)
    theirs = await sync_to_async(make_database)("search-cache", other_team, port=12002)
    communicator = await subscribed(f"/ws/cluster/{cluster.pk}/", member)

    await set_state(theirs, managed.DB_ACTIVE)
    await set_state(mine, managed.DB_ACTIVE)
    received = await messages_until_quiet(communicator)

    assert {m.get("name") or m["object"]["name"] for m in received} == {"orders"}
    await communicator.disconnect()


async def test_staff_overview_sees_every_team(staff_user, team, other_team, make_database):
    mine = await sync_to_async(make_database)("orders", team, port=12001)
    theirs = await sync_to_async(make_database)("search-cache", other_team, port=12002)
    communicator = await subscribed("/ws/overview/", staff_user)

    await set_state(mine, managed.DB_ACTIVE)
    await set_state(theirs, managed.ERROR, "port taken")
    received = [m for m in await messages_until_quiet(communicator) if m["type"] == "object.changed"]

    assert [(m["object"]["name"], m["view"]["state"], m["view"]["tone"]) for m in received] == [
        ("orders", "active", "ok"), ("search-cache", "Error", "bad")]
    await communicator.disconnect()


async def test_messages_never_carry_secrets(member, team, cluster, make_database):
    database = await sync_to_async(make_database)("orders", team)
    ca = await sync_to_async(cluster_ca)(cluster)
    communicator = await subscribed(f"/ws/database/{database.pk}/", member)

    await set_state(database, managed.DB_ACTIVE)
    await sync_to_async(record_event)(database, "CredentialsRevealed", "credentials revealed", actor="alice")
    received = await messages_until_quiet(communicator)

    assert len(received) >= 3
    raw = json.dumps(received)
    assert database.password not in raw and cluster.admin_password not in raw
    assert ca.key_pem not in raw and "PRIVATE KEY" not in raw
    assert {m["type"] for m in received} == {"object.changed", "object.event"}
    await communicator.disconnect()


async def test_ping_gets_pong(member, team, make_database):
    database = await sync_to_async(make_database)("orders", team)
    communicator = await subscribed(f"/ws/database/{database.pk}/", member)
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5)) == {"type": "pong"}
    await communicator.disconnect()


async def test_sockets_of_one_process_share_one_layer_subscription(member, team, make_database):
    """A thousand viewers of a page cost the channel layer one group member, not a thousand."""
    import redis.asyncio as aioredis
    from django.conf import settings

    database = await sync_to_async(make_database)("orders", team)
    group_key = f"asgi:group:database-{database.pk}"
    store = aioredis.from_url(settings.REDIS_URL)
    first = await subscribed(f"/ws/database/{database.pk}/", member)
    second = await subscribed(f"/ws/database/{database.pk}/", member)
    assert await store.zcard(group_key) == 1

    await set_state(database, managed.DB_ACTIVE)
    for communicator in (first, second):
        changed = [m for m in await messages_until_quiet(communicator) if m["type"] == "object.changed"]
        assert [m["view"]["state"] for m in changed] == ["active"]

    await first.disconnect()
    assert await store.zcard(group_key) == 1
    await second.disconnect()
    assert await store.zcard(group_key) == 0
    await store.aclose()


async def test_removing_a_member_from_the_team_closes_their_sockets_and_nothing_more_arrives(
        member, outsider, team, cluster, make_database):
    database = await sync_to_async(make_database)("orders", team)
    detail = await subscribed(f"/ws/database/{database.pk}/", member)
    overview = await subscribed("/ws/overview/", member)
    bystander = await subscribed("/ws/overview/", outsider)  # another user's socket stays open

    await sync_to_async(team.members.remove)(member)
    for communicator in (detail, overview):
        assert await close_code(communicator) == 4409
    await set_state(database, managed.DB_ACTIVE)
    await sync_to_async(record_event)(database, "Resized", "memory 100MB -> 200MB")
    assert await detail.receive_nothing(timeout=1) and await overview.receive_nothing(timeout=0.2)
    assert await bystander.receive_nothing(timeout=0.2)

    # Reconnecting applies the rights the user has now: the database page is refused, and the overview
    # no longer carries the team's databases.
    assert await close_code(await open_socket(f"/ws/database/{database.pk}/", member)) == 4403
    again = await subscribed("/ws/overview/", member)
    await set_state(database, managed.ERROR, "disk full")
    assert not [m for m in await messages_until_quiet(again) if m.get("object", {}).get("kind") == "database"
                or m.get("kind") == "database"]
    for communicator in (detail, overview, bystander, again):
        await communicator.disconnect()


async def test_a_user_removed_from_the_user_side_or_by_clear_is_disconnected_too(member, team, make_database):
    database = await sync_to_async(make_database)("orders", team)
    first = await subscribed(f"/ws/database/{database.pk}/", member)
    await sync_to_async(member.teams.remove)(team)
    assert await close_code(first) == 4409

    await sync_to_async(team.members.add)(member)
    second = await subscribed(f"/ws/database/{database.pk}/", member)
    await sync_to_async(team.members.clear)()
    assert await close_code(second) == 4409
    for communicator in (first, second):
        await communicator.disconnect()
