"""Metrics of a real database: its exporter answers, samples fill the charts, and a memory alert fires
when the database is filled over its threshold and clears after."""
from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from engine.reconcile import reconcile
from localtarget import exporter
from metrics import store
from metrics.sampler import sample_database
from timeline.models import Event

from .conftest import settle
from .helpers import endpoint, wait_until

pytestmark = pytest.mark.skipif(exporter.binary() is None, reason="apt-get install prometheus-redis-exporter")


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def events(database, reason: str) -> list[Event]:
    return list(Event.objects.filter(object_kind="database", object_id=database.pk, reason=reason))


def test_each_database_has_an_exporter_adopted_across_reconciles_and_stopped_on_delete(make_database):
    from databases.services import delete_database

    first = make_database("cache")
    second = make_database("sessions", cluster=first.cluster)
    urls = [first.status["metricsEndpoint"], second.status["metricsEndpoint"]]
    assert len(set(urls)) == 2
    for url in urls:
        text = scrape(url)
        assert "redis_up 1" in text and "redis_memory_used_bytes" in text and "redis_connected_clients" in text
    var_dir = Path(first.cluster.target.settings["var_dir"])
    pid_file = next(p for p in var_dir.rglob("exporter.pid") if p.parent.parent.name == "cache")
    pid = pid_file.read_text().strip()
    assert settle(first).state == "active"
    assert pid_file.read_text().strip() == pid  # adopted, not restarted
    assert first.password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert pid_file.with_name("exporter.auth").stat().st_mode & 0o777 == 0o600

    delete_database(second, actor="test")
    assert wait_until(lambda: reconcile("database", second.pk).gone, timeout=30)
    with pytest.raises(OSError):
        scrape(urls[1])


def test_a_memory_alert_fires_when_the_database_fills_and_clears_after(make_database):
    database = make_database("filled", memorySize="100MB", evictionPolicy="noeviction",
                             alertSettings={"bdb_size": {"enabled": True, "threshold": "40"}})
    client = endpoint(database)
    first = sample_database(database)
    assert first is not None and first.maxmemory == 100 * 2**20 and "bdb_size" not in store.firing(database.pk)

    value = "x" * 4096
    for batch in range(40):  # up to ~50 MB, stopping as soon as the database is over 40 % of its limit
        with client.pipeline(transaction=False) as pipe:
            for i in range(300):
                pipe.set(f"k:{batch}:{i}", value)
            pipe.execute()
        if client.info("memory")["used_memory"] > 0.45 * 100 * 2**20:
            break
    filled = sample_database(database)
    assert filled.memory_percent > 40 and filled.keys > 1000
    assert "bdb_size" in store.firing(database.pk)
    [fired] = events(database, "AlertFiring")
    assert fired.type == Event.WARNING and "bdb_size" in fired.message

    sample_database(database)  # still firing: no second event
    assert len(events(database, "AlertFiring")) == 1

    client.flushall()
    cleared = sample_database(database)
    assert cleared.memory_percent < 40 and store.firing(database.pk) == {}
    assert len(events(database, "AlertCleared")) == 1
    history = store.history(database.pk)
    assert len(history) == 4 and history[0].t == first.t and history[-1].t == cleared.t
