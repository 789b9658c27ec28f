"""`/metrics`: the control plane's own series, for staff or the configured bearer only."""
from __future__ import annotations

import re
import time

from prometheus_client.parser import text_string_to_metric_families

from engine.reconcile import reconcile
from metrics import store
from metrics.sampler import update_alerts
from metrics.samples import sample_from_info


def series(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_is_not_public(anonymous, member_api):
    assert anonymous.get("/metrics").status_code in (401, 403)
    assert member_api.get("/metrics").status_code == 403


def test_staff_see_reconciles_objects_queue_and_websockets(staff_api, database):
    before = series(staff_api.get("/metrics").content.decode())
    reconcile("database", database.pk)  # its cluster is not reconciled yet: a quick "pending" pass
    response = staff_api.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    after = series(response.content.decode())
    key = ("controlplane_reconciles_total", (("kind", "database"), ("outcome", "ok")))
    assert after[key] == before.get(key, 0) + 1
    count = ("controlplane_reconcile_duration_seconds_count", (("kind", "database"),))
    assert after[count] == before.get(count, 0) + 1
    assert after[("controlplane_objects", (("kind", "database"), ("state", "pending")))] == 1
    assert sum(v for (name, labels), v in after.items()
               if name == "controlplane_objects" and ("kind", "cluster") in labels) == 1
    assert ("controlplane_queue_depth", (("queue", "celery"),)) in after
    assert ("controlplane_websocket_clients", ()) in after
    assert after[("controlplane_redis_up", ())] == 1


def test_a_configured_bearer_reads_metrics_and_a_wrong_one_does_not(anonymous, settings, db):
    settings.CONTROLPLANE_METRICS_TOKEN = "scrape-" + "x" * 32
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer " + settings.CONTROLPLANE_METRICS_TOKEN)
    response = anonymous.get("/metrics")
    assert response.status_code == 200
    assert re.search(r"^controlplane_redis_up 1\.0$", response.content.decode(), re.M)
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert anonymous.get("/metrics").status_code in (401, 403)


def test_the_database_metrics_api_serves_the_stored_hour_to_its_team_only(member_api, outsider_api, database):
    store.forget(database.pk)
    now = time.time()
    old = sample_from_info({"used_memory": 10, "maxmemory": 100}, t=now - 7200)  # older than the hour: not served
    recent = sample_from_info({"used_memory": 90, "maxmemory": 100, "connected_clients": 3}, t=now)
    store.push(database.pk, old)
    store.push(database.pk, recent)
    database.spec = {**database.spec, "alertSettings": {"bdb_size": {"enabled": True, "threshold": 80}}}
    update_alerts(database, recent)

    url = "/api/v1/clusters/rec/databases/orders/metrics/"
    body = member_api.get(url).json()
    assert [s["t"] for s in body["samples"]] == [recent.t] and body["samples"][0]["clients"] == 3
    assert [a["setting"] for a in body["alerts"]] == ["bdb_size"] and body["interval"] > 0
    assert "hits" not in body["samples"][0]  # counters stay inside
    assert outsider_api.get(url).status_code == 404
    store.forget(database.pk)
