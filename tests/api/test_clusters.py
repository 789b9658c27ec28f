"""Clusters over the API: staff manage them, everyone signed in reads them, concurrency and errors."""
from __future__ import annotations

import pytest

from clusters.models import Cluster
from timeline.models import Event

from .conftest import CLUSTER_SPEC

pytestmark = pytest.mark.django_db


def test_staff_creates_a_cluster_and_reads_it_back(staff_api):
    response = staff_api.post("/api/v1/clusters/", {"name": "rec", "spec": CLUSTER_SPEC}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "rec"
    assert body["namespace"] == "default"
    assert body["target"] == "local"
    assert body["spec"]["nodes"] == 3
    assert body["generation"] == 1
    assert body["deleting"] is False
    assert response["Location"].endswith("/api/v1/clusters/rec/")
    assert response["ETag"] == '"1"'

    detail = staff_api.get("/api/v1/clusters/rec/")
    assert detail.status_code == 200
    assert detail.json()["spec"] == body["spec"]
    listing = staff_api.get("/api/v1/clusters/").json()
    assert listing["count"] == 1 and listing["results"][0]["name"] == "rec"


def test_operator_fields_without_use_are_accepted_with_a_warning(staff_api):
    spec = {**CLUSTER_SPEC, "license": "----- LICENSE -----"}
    response = staff_api.post("/api/v1/clusters/", {"name": "rec", "spec": spec}, format="json")

    assert response.status_code == 201, response.json()
    assert any("license" in warning for warning in response.json()["warnings"])


def test_invalid_cluster_is_rejected_with_field_messages_and_nothing_is_stored(staff_api):
    response = staff_api.post("/api/v1/clusters/", {"name": "Bad_Name", "spec": {"nodes": 2, "nodez": 3}},
                              format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors", "warnings"}
    assert "name" in body["errors"]
    assert "spec.nodes" in body["errors"]
    assert "spec.nodez" in body["errors"]
    assert Cluster.objects.count() == 0
    assert Event.objects.count() == 0


def test_non_staff_may_read_clusters_but_not_write_them(member_api, cluster):
    assert member_api.get("/api/v1/clusters/rec/").status_code == 200
    assert member_api.get("/api/v1/clusters/").json()["count"] == 1

    created = member_api.post("/api/v1/clusters/", {"name": "mine", "spec": CLUSTER_SPEC}, format="json")
    patched = member_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 5}}, format="json")
    deleted = member_api.delete("/api/v1/clusters/rec/")
    upgraded = member_api.post("/api/v1/clusters/rec/upgrade/", {"version": "7.2"}, format="json")

    for response in (created, patched, deleted, upgraded):
        assert response.status_code == 403, response.content
        assert response.json()["detail"]
    cluster.refresh_from_db()
    assert cluster.spec["nodes"] == 3 and cluster.generation == 1 and cluster.deletion_requested_at is None
    assert Cluster.objects.count() == 1


def test_anonymous_requests_get_401_with_a_token_challenge(anonymous, cluster):
    for response in (anonymous.get("/api/v1/clusters/"), anonymous.get("/api/v1/clusters/rec/"),
                     anonymous.post("/api/v1/clusters/", {"name": "x", "spec": {}}, format="json")):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert "rec" not in response.content.decode()


def test_an_unknown_token_is_401(cluster):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    response = client.get("/api/v1/clusters/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_put_replaces_the_spec_and_bumps_the_generation(staff_api, cluster):
    response = staff_api.put("/api/v1/clusters/rec/", {"name": "rec", "spec": {**CLUSTER_SPEC, "nodes": 5}},
                             format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["generation"] == 2
    assert response["ETag"] == '"2"'
    cluster.refresh_from_db()
    assert cluster.spec["nodes"] == 5 and cluster.generation == 2


def test_patch_merges_top_level_spec_keys(staff_api, cluster):
    before = dict(cluster.spec)
    response = staff_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 5}}, format="json")

    assert response.status_code == 200, response.json()
    cluster.refresh_from_db()
    assert cluster.spec["nodes"] == 5
    assert cluster.spec["redisEnterpriseNodeResources"] == before["redisEnterpriseNodeResources"]


def test_an_identical_spec_changes_nothing(staff_api, cluster):
    response = staff_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 3}}, format="json")

    assert response.status_code == 200
    assert response.json()["generation"] == 1


@pytest.mark.parametrize("how", ["body", "if-match"])
def test_a_stale_generation_gets_409_and_changes_nothing(staff_api, cluster, how):
    staff_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 5}}, format="json")  # now generation 2
    body = {"spec": {"nodes": 7}}
    headers = {}
    if how == "body":
        body["generation"] = 1
    else:
        headers["HTTP_IF_MATCH"] = '"1"'

    response = staff_api.patch("/api/v1/clusters/rec/", body, format="json", **headers)

    assert response.status_code == 409
    assert "generation" in response.json()["errors"]
    assert response.json()["currentGeneration"] == 2
    cluster.refresh_from_db()
    assert cluster.spec["nodes"] == 5 and cluster.generation == 2


def test_a_current_if_match_is_accepted(staff_api, cluster):
    response = staff_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 5}}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()


def test_a_malformed_if_match_is_a_field_error(staff_api, cluster):
    response = staff_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 5}}, format="json",
                               HTTP_IF_MATCH="yesterday")
    assert response.status_code == 400
    assert "If-Match" in response.json()["errors"]


def test_immutable_fields_cannot_be_changed(staff_api, cluster):
    response = staff_api.put("/api/v1/clusters/rec/", {"name": "other", "namespace": "elsewhere",
                                                       "spec": CLUSTER_SPEC}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "namespace"}
    assert Cluster.objects.get().name == "rec"


def test_a_rejected_update_changes_nothing(staff_api, cluster):
    events_before = Event.objects.count()
    response = staff_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 1}}, format="json")  # decreasing

    assert response.status_code == 400
    assert "spec.nodes" in response.json()["errors"]
    cluster.refresh_from_db()
    assert cluster.spec["nodes"] == 3 and cluster.generation == 1
    assert Event.objects.count() == events_before


def test_delete_marks_for_deletion_and_returns_202(staff_api, cluster):
    response = staff_api.delete("/api/v1/clusters/rec/?deleteData=true")

    assert response.status_code == 202
    assert response.json()["deleting"] is True
    cluster.refresh_from_db()
    assert cluster.deletion_requested_at is not None and cluster.delete_data is True


def test_delete_data_must_be_a_boolean(staff_api, cluster):
    response = staff_api.delete("/api/v1/clusters/rec/?deleteData=maybe")
    assert response.status_code == 400
    assert "deleteData" in response.json()["errors"]
    cluster.refresh_from_db()
    assert cluster.deletion_requested_at is None


def test_a_cluster_with_databases_cannot_be_deleted(staff_api, cluster, database, other_database):
    response = staff_api.delete("/api/v1/clusters/rec/")

    assert response.status_code == 409
    assert sorted(response.json()["databases"]) == ["catalog", "orders"]
    assert "orders" in response.json()["detail"]
    cluster.refresh_from_db()
    assert cluster.deletion_requested_at is None


def test_upgrade_moves_the_cluster_version(staff_api, cluster):
    from core.drivers import driver_for

    version = driver_for(cluster.target).redis_versions()[0]
    response = staff_api.post("/api/v1/clusters/rec/upgrade/", {"version": version}, format="json")

    assert response.status_code == 200, response.json()
    cluster.refresh_from_db()
    assert cluster.spec["redisEnterpriseImageSpec"]["versionTag"] == version


def test_upgrade_to_an_unknown_version_is_a_field_error(staff_api, cluster):
    response = staff_api.post("/api/v1/clusters/rec/upgrade/", {"version": "1.0"}, format="json")

    assert response.status_code == 400
    assert "version" in response.json()["errors"]
    cluster.refresh_from_db()
    assert cluster.generation == 1


def test_events_list_the_timeline_with_actors(staff_api, cluster):
    staff_api.patch("/api/v1/clusters/rec/", {"spec": {"nodes": 5}}, format="json")

    response = staff_api.get("/api/v1/clusters/rec/events/")

    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["reason"] for e in events][:2] == ["SpecChanged", "Created"]
    assert events[0]["actor"] == "ops"


def test_manifests_come_back_with_secrets_redacted(staff_api, cluster):
    response = staff_api.get("/api/v1/clusters/rec/manifests/")

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "List"
    kinds = {item["kind"] for item in body["items"]}
    assert {"StatefulSet", "Secret"} <= kinds
    assert cluster.admin_password not in response.content.decode()


def test_delete_answers_even_when_an_inline_reconcile_removed_the_row_at_once(
        staff_api, cluster, settings, django_capture_on_commit_callbacks):
    settings.CONTROLPLANE_RECONCILE_MODE = "inline"  # single-process tools reconcile right after commit

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.delete("/api/v1/clusters/rec/")

    assert response.status_code == 202
    assert response.json()["name"] == "rec" and response.json()["deleting"] is True
    assert not Cluster.objects.filter(name="rec").exists()
