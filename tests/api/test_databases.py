"""Databases over the API: team scoping (another team's database is a 404), credentials, concurrency."""
from __future__ import annotations

import pytest

from clusters.certificates import cluster_ca
from databases.models import Database
from timeline.models import Event

from .conftest import DATABASE_SPEC

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/clusters/rec/databases/orders/"


def test_a_member_creates_a_database_owned_by_their_team(member_api, cluster, team):
    response = member_api.post("/api/v1/clusters/rec/databases/", {"name": "orders", "spec": DATABASE_SPEC},
                               format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["team"] == "payments" and body["cluster"] == "rec"
    assert body["spec"]["memorySize"] == "256MB"
    assert body["spec"]["databasePort"]  # assigned by the write path
    assert Database.objects.get(name="orders").team == team


def test_a_member_cannot_create_for_a_team_they_are_not_in(member_api, cluster, other_team):
    response = member_api.post("/api/v1/clusters/rec/databases/",
                               {"name": "orders", "team": "search", "spec": DATABASE_SPEC}, format="json")

    assert response.status_code == 400
    assert "team" in response.json()["errors"]
    assert Database.objects.count() == 0


def test_a_user_in_several_teams_must_name_one(member_api, member, cluster, other_team):
    other_team.members.add(member)
    unnamed = member_api.post("/api/v1/clusters/rec/databases/", {"name": "orders", "spec": DATABASE_SPEC},
                              format="json")
    named = member_api.post("/api/v1/clusters/rec/databases/",
                            {"name": "orders", "team": "search", "spec": DATABASE_SPEC}, format="json")

    assert unnamed.status_code == 400
    assert "payments" in unnamed.json()["errors"]["team"][0]
    assert named.status_code == 201 and named.json()["team"] == "search"


def test_staff_may_create_for_any_team(staff_api, cluster, other_team):
    response = staff_api.post("/api/v1/clusters/rec/databases/",
                              {"name": "catalog", "team": "search", "spec": DATABASE_SPEC}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["team"] == "search"


def test_creating_on_an_unknown_cluster_is_404(member_api, db, team):
    response = member_api.post("/api/v1/clusters/nope/databases/", {"name": "orders", "spec": DATABASE_SPEC},
                               format="json")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_invalid_database_is_rejected_with_field_messages_and_nothing_is_stored(member_api, cluster):
    databases, events = Database.objects.count(), Event.objects.count()
    response = member_api.post("/api/v1/clusters/rec/databases/",
                               {"name": "orders", "spec": {"memorySize": "10MB", "persistence": "sometimes"}},
                               format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "spec.memorySize" in errors and "spec.persistence" in errors
    assert Database.objects.count() == databases
    assert Event.objects.count() == events


def test_a_body_of_the_wrong_shape_is_a_field_error(member_api, cluster):
    response = member_api.post("/api/v1/clusters/rec/databases/", {"name": "orders", "spec": "big"}, format="json")

    assert response.status_code == 400
    assert "spec" in response.json()["errors"]


def test_another_teams_database_is_404_for_every_verb(outsider_api, database):
    responses = [
        outsider_api.get(ORDERS),
        outsider_api.patch(ORDERS, {"spec": {"memorySize": "512MB"}}, format="json"),
        outsider_api.put(ORDERS, {"name": "orders", "spec": DATABASE_SPEC}, format="json"),
        outsider_api.delete(ORDERS),
        outsider_api.post(ORDERS + "credentials/"),
        outsider_api.post(ORDERS + "upgrade/", {"version": "7.2"}, format="json"),
        outsider_api.get(ORDERS + "events/"),
        outsider_api.get(ORDERS + "manifests/"),
    ]
    for response in responses:
        assert response.status_code == 404, (response.request["REQUEST_METHOD"], response.content)
        assert database.password not in response.content.decode()
    database.refresh_from_db()
    assert database.generation == 1 and database.deletion_requested_at is None
    assert not Event.objects.filter(object_kind="database", reason="CredentialsRevealed").exists()


def test_lists_show_only_your_teams_databases(member_api, outsider_api, staff_api, database, other_database):
    def names(client, url):
        return sorted(d["name"] for d in client.get(url).json()["results"])

    assert names(member_api, "/api/v1/databases/") == ["orders"]
    assert names(member_api, "/api/v1/clusters/rec/databases/") == ["orders"]
    assert names(outsider_api, "/api/v1/databases/") == ["catalog"]
    assert names(staff_api, "/api/v1/databases/") == ["catalog", "orders"]


def test_the_flat_list_filters_by_cluster_team_and_state(staff_api, database, other_database):
    Database.objects.filter(pk=database.pk).update(status={"state": "active"})

    def names(query):
        return sorted(d["name"] for d in staff_api.get(f"/api/v1/databases/?{query}").json()["results"])

    assert names("team=payments") == ["orders"]
    assert names("cluster=rec") == ["catalog", "orders"]
    assert names("cluster=other") == []
    assert names("state=active") == ["orders"]
    assert names("state=active&team=search") == []


def test_credentials_are_never_in_list_or_detail_output(member_api, staff_api, database):
    ca_key = cluster_ca(database.cluster).key_pem  # the cluster CA exists: its key must not leak either
    bodies = [
        member_api.get(ORDERS),
        member_api.get("/api/v1/clusters/rec/databases/"),
        member_api.get("/api/v1/databases/"),
        staff_api.get("/api/v1/databases/"),
        member_api.patch(ORDERS, {"spec": {"memorySize": "512MB"}}, format="json"),
        member_api.get(ORDERS + "events/"),
        member_api.get(ORDERS + "manifests/"),
    ]
    for response in bodies:
        assert response.status_code == 200, response.content
        assert database.password not in response.content.decode()
        assert "password" not in response.json().get("spec", {})
        assert ca_key not in response.content.decode() and "PRIVATE KEY" not in response.content.decode()
    for url in ["/api/v1/clusters/", "/api/v1/clusters/rec/", "/api/v1/clusters/rec/events/"]:
        body = staff_api.get(url).content.decode()
        assert "PRIVATE KEY" not in body and "BEGIN CERTIFICATE" not in body


def test_a_tls_database_reveals_the_ca_certificate_and_a_tls_command_never_a_key(member_api, database):
    assert member_api.patch(ORDERS, {"spec": {"tlsMode": "enabled"}}, format="json").status_code == 200
    body = member_api.post(ORDERS + "credentials/").json()
    assert body["caCertificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert "--tls --cacert ca.crt" in body["redisCli"] and any("ca.crt" in hint for hint in body["hints"])
    assert "PRIVATE KEY" not in str(body)
    assert member_api.patch(ORDERS, {"spec": {"tlsMode": "replica_ssl"}}, format="json").json()["spec"][
        "tlsMode"] == "replica_ssl"  # encrypted replication: the local target realises it (docs/tls.md)


@pytest.mark.parametrize("who", ["member", "staff"])
def test_the_owner_or_staff_reveal_credentials_and_the_reveal_is_an_event(request, database, who):
    client = request.getfixturevalue(f"{who}_api")
    user = request.getfixturevalue("member" if who == "member" else "staff_user")

    response = client.post(ORDERS + "credentials/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["password"] == database.password
    assert body["port"] == database.spec["databasePort"]
    assert body["serviceNames"]
    assert database.password in body["redisCli"] and str(body["port"]) in body["redisCli"]
    assert response["Cache-Control"] == "no-store"
    event = Event.objects.get(object_kind="database", object_id=database.pk, reason="CredentialsRevealed")
    assert event.actor == user.username
    assert database.password not in event.message
    timeline = client.get(ORDERS + "events/")
    assert "CredentialsRevealed" in timeline.content.decode()
    assert database.password not in timeline.content.decode()


def test_patch_merges_spec_keys_and_null_removes_one(member_api, database):
    response = member_api.patch(ORDERS, {"spec": {"memorySize": "512MB"}}, format="json")
    assert response.status_code == 200, response.json()
    database.refresh_from_db()
    assert database.spec["memorySize"] == "512MB" and database.spec["replication"] is True
    assert database.generation == 2

    response = member_api.patch(ORDERS, {"spec": {"evictionPolicy": None}}, format="json")
    assert response.status_code == 200, response.json()
    database.refresh_from_db()
    assert database.spec["evictionPolicy"] == "volatile-lru"  # back to its default


def test_a_stale_database_write_is_409(member_api, database):
    member_api.patch(ORDERS, {"spec": {"memorySize": "512MB"}}, format="json")

    response = member_api.put(ORDERS, {"name": "orders", "generation": 1, "spec": DATABASE_SPEC}, format="json")

    assert response.status_code == 409
    database.refresh_from_db()
    assert database.spec["memorySize"] == "512MB" and database.generation == 2


def test_a_rejected_database_update_changes_nothing(member_api, database):
    stored, events = dict(database.spec), Event.objects.count()

    response = member_api.patch(ORDERS, {"spec": {"shardCount": 0, "databasePort": 1}}, format="json")

    assert response.status_code == 400
    assert {"spec.shardCount", "spec.databasePort"} <= set(response.json()["errors"])
    database.refresh_from_db()
    assert database.spec == stored and database.generation == 1
    assert Event.objects.count() == events
    assert Database.objects.count() == 1


def test_the_owning_team_cannot_be_changed(member_api, database, other_team):
    response = member_api.patch(ORDERS, {"team": "search"}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()["errors"]


def test_delete_marks_the_database_for_deletion(member_api, database):
    response = member_api.delete(ORDERS)

    assert response.status_code == 202
    assert response.json()["deleting"] is True
    database.refresh_from_db()
    assert database.deletion_requested_at is not None and database.delete_data is False


def test_upgrade_changes_the_redis_version(member_api, database):
    from core.drivers import driver_for

    version = driver_for(database.target).redis_versions()[0]
    response = member_api.post(ORDERS + "upgrade/", {"version": version}, format="json")

    assert response.status_code == 200, response.json()
    database.refresh_from_db()
    assert database.spec["redisVersion"] == version


def test_database_manifests_are_redacted(member_api, database):
    response = member_api.get(ORDERS + "manifests/")

    assert response.status_code == 200
    assert any(item["kind"] == "Secret" for item in response.json()["items"])
    assert database.password not in response.content.decode()
