"""The database page's charts and alert badge in a real browser, on a real database that is filled
over its memory alert threshold and emptied again while the page stays open."""
from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from ..documents import rec_and_redb
from .stack import LiveStack

pytestmark = pytest.mark.timeout(300)

DOCUMENTS = rec_and_redb("charts", "sessions", {
    "memorySize": "100MB", "alertSettings": {"bdb_size": {"enabled": True, "threshold": "5"}}})

# One sampling pass after filling (fill=True) or emptying the database: what the beat task does.
SAMPLE = """
import redis
from databases.models import Database
from metrics.sampler import sample_everything
database = Database.objects.get(name="sessions")
client = redis.Redis(port=int(database.spec["databasePort"]), password=database.password)
if FILL:
    with client.pipeline(transaction=False) as pipe:
        for i in range(2500):
            pipe.set(f"session:{i}", "x" * 4096)
        pipe.execute()
else:
    client.flushall()
for i in range(20):
    client.get(f"session:{i}"); client.get(f"missing:{i}")
print(sample_everything())
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = LiveStack(tmp_path_factory.mktemp("charts-stack"), CONTROLPLANE_SAMPLE_SECONDS="5").start()
    yield live
    live.close()


def test_charts_and_the_memory_alert_badge_follow_the_database_live(stack, sign_in, shot, tmp_path):
    documents = tmp_path / "charts.yaml"
    documents.write_text(DOCUMENTS)
    stack.manage("apply", "-f", str(documents), "--team", "payments")
    stack.reconcile("charts", "rec")
    stack.reconcile("sessions", "redb")
    for _ in range(3):
        assert "'sampled': 1" in stack.manage("shell", "-c", "FILL = False\n" + SAMPLE)

    [(status,)] = stack.query("SELECT status FROM databases_database WHERE name = 'sessions'")
    with urllib.request.urlopen(json.loads(status)["metricsEndpoint"], timeout=10) as response:
        assert "redis_up 1" in response.read().decode()

    alice = sign_in("alice")
    alice.get_by_role("link", name="sessions").click()
    charts = alice.locator("#charts")
    expect(charts).to_have_attribute("data-loaded", "3")
    expect(charts.locator("figure.chart svg path.line")).to_have_count(6 - 1)  # no replica: no lag line
    expect(charts.locator("figure[data-chart=lag] svg")).to_have_attribute("aria-label", "Replication lag: no data")
    expect(charts.locator("figure[data-chart=hits] .now")).to_have_text("0 %")  # emptied: every read missed
    expect(alice.locator("#alert-badge")).to_be_hidden()
    loaded_at = alice.evaluate("window.__loadedAt")

    stack.manage("shell", "-c", "FILL = True\n" + SAMPLE)
    expect(alice.locator("#alert-badge .badge-text")).to_have_text("1 alert firing")
    expect(alice.locator("#alert-list li")).to_contain_text("bdb_size")
    expect(charts.locator("figure[data-chart=keys] .now")).to_have_text("2,500")
    expect(charts.locator("figure[data-chart=hits] .now")).to_have_text("50 %")
    expect(charts.locator("figure[data-chart=memory] path.limit")).to_have_count(1)
    shot(alice, "20-database-charts-alert")

    stack.manage("shell", "-c", "FILL = False\n" + SAMPLE)
    expect(alice.locator("#alert-badge")).to_be_hidden()
    expect(charts.locator("figure[data-chart=keys] .now")).to_have_text("0")
    assert alice.evaluate("window.__loadedAt") == loaded_at, "the page was reloaded"
    reasons = [r for (r,) in stack.query("SELECT reason FROM timeline_event WHERE object_name = 'sessions' "
                                          "AND reason LIKE 'Alert%' ORDER BY id")]
    assert reasons == ["AlertFiring", "AlertCleared"]
