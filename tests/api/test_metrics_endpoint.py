"""`/metrics`: the control plane's own series, for staff or the configured bearer only."""
from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from targets.reconcile import reconcile


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
