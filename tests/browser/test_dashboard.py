"""The dashboard in a real browser against a live stack, reconciled for real on the local target.

One story, in order (each step needs the one before): an operator creates a cluster and watches it
come up; a team member fails a form, then creates a database, reveals its credentials (and they open
the real endpoint), upgrades it and watches the version change; another team cannot see it; the
page survives a server restart; deleting cleans up every process.
"""
from __future__ import annotations

import re

import pytest
import redis
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from .stack import live_processes_under

pytestmark = pytest.mark.timeout(300)

STATUS_BADGE = ".status-panel [data-field=state] .badge-text"


def recorded_states(stack, kind: str, name: str) -> list[str]:
    """The states the reconciler wrote for the object, from its timeline ("before -> after[: reason]")."""
    rows = stack.query("SELECT message FROM timeline_event WHERE object_kind = ? AND object_name = ? "
                       "AND reason = 'StateChanged' ORDER BY id", kind, name)
    return [re.match(r".* -> (\S+?)(:|$)", message).group(1) for (message,) in rows]


def squeezed(states: list[str]) -> list[str]:
    """Consecutive repeats dropped: a badge showing "pending" does not change when "new -> pending" arrives."""
    return [state for index, state in enumerate(states) if index == 0 or states[index - 1] != state]


def assert_not_reloaded(page, loaded_at: int) -> None:
    assert page.evaluate("window.__loadedAt") == loaded_at, "the page was reloaded"


def test_the_dashboard_end_to_end(stack, browser, sign_in, shot):
    # -- the login page --------------------------------------------------------------------------------
    anonymous = browser.new_page(base_url=stack.url)
    anonymous.goto("/databases/")
    expect(anonymous).to_have_url(re.compile(r"/login/\?next="))
    shot(anonymous, "01-login")
    anonymous.close()

    # -- an operator creates a cluster and watches the badge change without reloading --------------------
    ops = sign_in("ops")
    ops.get_by_role("link", name="Clusters").click()
    expect(ops.get_by_text("There are no clusters yet.")).to_be_visible()
    shot(ops, "02-clusters-empty")
    ops.get_by_role("link", name="Create cluster").click()
    ops.get_by_label("Name", exact=True).fill("web")
    ops.get_by_label("Namespace").fill("web")
    ops.get_by_label("Memory per node").fill("1Gi")
    ops.get_by_label("Volume size").fill("1Gi")
    shot(ops, "03-cluster-form")
    ops.get_by_role("button", name="Create cluster").click()
    ops.wait_for_url(re.compile(r"/clusters/\d+/$"))
    expect(ops.locator(STATUS_BADGE)).to_have_text("PendingCreation")
    expect(ops.locator("#connection")).to_have_text("Live updates on.")
    loaded_at = ops.evaluate("window.__loadedAt")

    stack.reconcile("web", "rec")
    expect(ops.locator(STATUS_BADGE)).to_have_text("Running")
    assert_not_reloaded(ops, loaded_at)
    states = recorded_states(stack, "cluster", "web")
    assert states[-1] == "Running"
    # every state the reconciler wrote appeared on the open page, in order
    assert ops.evaluate("window.__badgeStates") == squeezed(["PendingCreation", *states])
    expect(ops.locator("ol[data-timeline] .event-reason").first).to_have_text("StateChanged")
    shot(ops, "04-cluster-running")
    ops.goto("/databases/")  # the operator keeps the (empty) databases list open
    expect(ops.get_by_text("You have no databases yet.")).to_be_visible()

    # -- a team member: bad input shows the field message and saves nothing ------------------------------
    alice = sign_in("alice")
    expect(alice.get_by_text("You have no databases yet.")).to_be_visible()
    shot(alice, "05-databases-empty")
    alice.get_by_role("link", name="Create database").click()
    expect(alice.get_by_label("Memory", exact=True)).to_have_value("100MB")  # defaults filled in
    alice.get_by_label("Name", exact=True).fill("orders")
    alice.get_by_label("Memory", exact=True).fill("lots")
    alice.get_by_role("button", name="Create database").click()
    expect(alice.locator("#id_memory_size_error")).to_contain_text("'lots' is not a memory size")
    expect(alice.get_by_label("Memory", exact=True)).to_have_attribute("aria-invalid", "true")
    assert stack.query("SELECT count(*) FROM databases_database") == [(0,)]
    shot(alice, "06-database-form-error")

    # -- ... then creates the database (YAML preview first) and watches it become active -----------------
    alice.get_by_label("Memory", exact=True).fill("100MB")
    alice.get_by_label("Replication").check()
    alice.get_by_label("Persistence").select_option("aofEverySecond")
    alice.get_by_label("Redis version").fill("7.0")  # not the newest, to upgrade it later
    alice.get_by_role("button", name="Preview YAML").click()
    expect(alice.locator("details.yaml pre")).to_contain_text("persistence: aofEverySecond")
    assert stack.query("SELECT count(*) FROM databases_database") == [(0,)]
    shot(alice, "07-database-form-yaml")
    alice.get_by_role("button", name="Create database").click()
    alice.wait_for_url(re.compile(r"/databases/\d+/$"))
    database_pk = int(re.search(r"/databases/(\d+)/", alice.url).group(1))
    expect(alice.locator(STATUS_BADGE)).to_have_text("pending")
    expect(alice.locator("#connection")).to_have_text("Live updates on.")
    loaded_at = alice.evaluate("window.__loadedAt")
    stack.reconcile("orders", "redb")
    expect(alice.locator(STATUS_BADGE)).to_have_text("active")
    assert alice.evaluate("window.__badgeStates") == squeezed(["pending", *recorded_states(stack, "database",
                                                                                            "orders")])
    assert_not_reloaded(alice, loaded_at)
    shot(alice, "08-database-active")
    expect(ops.locator("#list-changed")).to_be_visible()  # the open list says it has news

    # -- reveal credentials: the password is the stored one and opens the real endpoint -----------------
    alice.get_by_role("button", name="Reveal credentials").click()
    expect(alice.get_by_label("Password")).not_to_have_value("")
    password = alice.get_by_label("Password").input_value()
    command = alice.get_by_label("redis-cli command").input_value()
    [(stored,)] = stack.query("SELECT password FROM databases_database WHERE name = 'orders'")
    assert password not in stored  # encrypted at rest, with the stack's key
    assert Fernet(stack.env["CONTROLPLANE_ENCRYPTION_KEYS"].split(",")[0].encode()).decrypt(stored.encode()).decode() \
        == password
    port = int(re.search(r"-p (\d+)", command).group(1))
    assert f"-a {password}" in command or password in command
    assert redis.Redis(port=port, password=password, socket_timeout=5).ping() is True
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, password="not-the-password", socket_timeout=5).ping()
    alice.get_by_role("button", name="Copy command").click()
    expect(alice.locator("#copy-status")).to_have_text("Copied redis-cli command.")
    assert alice.evaluate("navigator.clipboard.readText()") == command
    timeline = alice.locator("ol[data-timeline] li").first
    expect(timeline).to_contain_text("CredentialsRevealed")
    expect(timeline).to_contain_text("by alice")
    assert password not in alice.locator("ol[data-timeline]").inner_text()
    shot(alice, "09-database-credentials")
    alice.get_by_role("button", name="Hide credentials").click()
    expect(alice.locator("#credentials")).to_be_hidden()
    assert alice.get_by_label("Password").input_value() == ""

    # -- upgrade: versions, a confirm step, then the version changes live --------------------------------
    alice.get_by_role("link", name="Upgrade").click()
    expect(alice.get_by_text("Redis 7.0 (current)")).to_be_visible()
    expect(alice.get_by_label("Redis 7.2 (newer)")).to_be_checked()
    shot(alice, "10-database-upgrade")
    alice.get_by_role("button", name="Continue").click()
    expect(alice.locator("main")).to_contain_text("from Redis 7.0 to Redis 7.2")
    shot(alice, "11-database-upgrade-confirm")
    alice.get_by_role("button", name="Upgrade to 7.2").click()
    alice.wait_for_url(f"**/databases/{database_pk}/")
    version = alice.locator(".status-panel [data-field=version]")
    expect(version).to_have_text("7.0")
    expect(alice.locator(".status-panel [data-field=generation]")).to_have_text("2")
    loaded_at = alice.evaluate("window.__loadedAt")
    stack.reconcile("orders", "redb")
    expect(version).to_have_text("7.2")
    expect(alice.locator(".status-panel [data-field=observedGeneration]")).to_have_text("2")
    assert_not_reloaded(alice, loaded_at)
    assert redis.Redis(port=port, password=password, socket_timeout=5).info("server")["redis_version"]
    shot(alice, "12-database-upgraded")

    # -- another team's session does not see the database, not even through the socket -------------------
    bob = sign_in("bob")
    expect(bob.get_by_text("You have no databases yet.")).to_be_visible()
    expect(bob.locator("main")).not_to_contain_text("orders")
    assert bob.goto(f"/databases/{database_pk}/").status == 404
    code = bob.evaluate("""pk => new Promise(resolve => {
        const socket = new WebSocket(`ws://${location.host}/ws/database/${pk}/`);
        socket.onclose = closed => resolve(closed.code);
    })""", database_pk)
    assert code == 4403
    bob.goto("/databases/")
    shot(bob, "13-other-team-databases")

    # -- the cluster page lists the database; the databases list too -------------------------------------
    ops.goto("/databases/")
    expect(ops.locator(f'tr[data-object="database-{database_pk}"]')).to_contain_text("active")
    shot(ops, "14-databases-list")
    ops.get_by_role("link", name="web").first.click()
    expect(ops.locator(f'tr[data-object="database-{database_pk}"]')).to_be_visible()
    shot(ops, "15-cluster-with-database")

    # -- delete, while the server restarts: the page reconnects and refetches what it missed -------------
    alice.get_by_role("link", name="Delete").click()
    expect(alice.locator("main")).to_contain_text("stops the database's redis-server processes")
    shot(alice, "16-database-delete")
    alice.get_by_label("Also delete the data").check()
    alice.get_by_label("Type orders to confirm").fill("orders")
    alice.get_by_role("button", name="Delete database orders").click()
    alice.wait_for_url(f"**/databases/{database_pk}/")
    expect(alice.get_by_text("Deletion requested")).to_be_visible()
    expect(alice.locator("#connection")).to_have_text("Live updates on.")
    stack.stop_web()
    expect(alice.locator("#connection")).to_contain_text("reconnecting")
    stack.reconcile("orders", "redb")  # published while nobody listens
    assert stack.query("SELECT count(*) FROM databases_database") == [(0,)]
    stack.start_web()
    # the page reconnects, learns the database is gone, and refetches its state
    expect(alice.locator("#connection")).to_contain_text("no longer exists", timeout=40_000)
    expect(alice.locator(STATUS_BADGE)).to_have_text("Removed")
    expect(alice.locator("ol[data-timeline] li").first).to_contain_text("Deleted")
    shot(alice, "17-database-removed")

    ops.goto(f"/clusters/{stack.query('SELECT id FROM clusters_cluster')[0][0]}/delete/")
    ops.get_by_label("Type web to confirm").fill("web")
    ops.get_by_role("button", name="Delete cluster web").click()
    expect(ops.locator("#connection")).to_have_text("Live updates on.")
    stack.reconcile("web", "rec")
    expect(ops.locator(STATUS_BADGE)).to_have_text("Removed")
    assert live_processes_under(stack.var_dir) == []
