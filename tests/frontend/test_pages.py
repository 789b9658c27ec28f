"""Dashboard pages through Django's test client, with the real write-path services behind the forms."""
from __future__ import annotations

import pytest

from clusters.models import Cluster
from core.drivers import Observation
from databases.models import Database
from engine.reconcile import write_status
from targets import managed
from timeline.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(settings):
    """The local target offering two versions (the same binary), so there is something to upgrade to."""
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {"7.0": "/usr/bin", "7.2": "/usr/bin"}


def test_pages_require_login(client, cluster):
    for url in ("/", "/clusters/", "/databases/", f"/clusters/{cluster.pk}/", "/databases/new/", "/state/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_login_page_signs_in(client, member):
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 302
    assert client.get("/databases/").status_code == 200


def test_database_list_shows_only_the_teams_databases(logged_in, member, team, other_team, make_database):
    make_database("orders", team, port=12001)
    make_database("search-cache", other_team, port=12002)
    page = logged_in(member).get("/databases/").content.decode()
    assert "orders" in page and "search-cache" not in page
    assert 'data-object="database-' in page and "badge tone-busy" in page and "pending" in page


def test_another_teams_database_is_not_found(logged_in, member, other_team, make_database):
    theirs = make_database("search-cache", other_team)
    client = logged_in(member)
    assert client.get(f"/databases/{theirs.pk}/").status_code == 404
    assert client.post(f"/databases/{theirs.pk}/credentials/").status_code == 404
    assert client.get(f"/databases/{theirs.pk}/edit/").status_code == 404


def test_empty_states_say_what_to_do_next(logged_in, member, staff_user):
    page = logged_in(member).get("/clusters/").content.decode()
    assert "There are no clusters yet" in page and "ask one to create a cluster" in page
    page = logged_in(staff_user).get("/clusters/").content.decode()
    assert "Create the first cluster" in page
    page = logged_in(member).get("/databases/new/").content.decode()
    assert "no cluster to place a database on" in page


def test_cluster_page_shows_state_capacity_databases_and_timeline(logged_in, member, team, other_team, cluster,
                                                                  make_database):
    make_database("orders", team, port=12001, memorySize="1GB")
    make_database("search-cache", other_team, port=12002, memorySize="2GB")
    write_status(cluster, Observation(state=managed.RUNNING, details={"version": "7.0"}), cluster.generation)
    page = logged_in(member).get(f"/clusters/{cluster.pk}/").content.decode()
    assert "tone-ok" in page and "Running" in page and "7.0" in page
    assert "3GB used of 12GB" in page  # capacity counts every database, names only visible ones
    assert "orders" in page and "search-cache" not in page
    assert "StateChanged" in page and "PendingCreation -&gt; Running" in page
    assert "kind: RedisEnterpriseCluster" in page
    assert "Edit</a>" not in page  # members do not manage clusters


def test_database_page_shows_settings_and_how_to_connect(logged_in, member, team, make_database):
    database = make_database("orders", team, port=12345, replication=True, persistence="aofEverySecond")
    page = logged_in(member).get(f"/databases/{database.pk}/").content.decode()
    assert "127.0.0.1:12345" in page and "orders@127.0.0.1" in page
    assert "aofEverySecond" in page and "Reveal credentials" in page
    assert database.password not in page


def test_create_database_through_the_form(logged_in, member, team, cluster):
    response = logged_in(member).post("/databases/new/", {
        "cluster": cluster.pk, "name": "orders", "memory_size": "200MB", "shard_count": 1,
        "persistence": "aofEverySecond", "eviction_policy": "allkeys-lru", "replication": "on"})
    database = Database.objects.get(name="orders")
    assert response.status_code == 302 and response["Location"] == f"/databases/{database.pk}/"
    assert database.team == team
    assert database.spec["memorySize"] == "200MB" and database.spec["replication"] is True
    assert database.spec["persistence"] == "aofEverySecond" and database.spec["evictionPolicy"] == "allkeys-lru"
    assert database.spec["databasePort"]  # assigned by the write path
    assert Event.objects.filter(object_kind="database", object_id=database.pk, reason="Created").exists()


def test_bad_input_shows_field_messages_and_changes_nothing(logged_in, member, team, cluster):
    response = logged_in(member).post("/databases/new/", {
        "cluster": cluster.pk, "name": "Bad_Name", "memory_size": "lots", "shard_count": 0,
        "persistence": "disabled", "eviction_policy": "volatile-lru"})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) >= {"name", "memory_size", "shard_count"}
    assert "lots" in " ".join(form.errors["memory_size"])
    page = response.content.decode()
    assert 'id="id_memory_size_error"' in page and "was not saved" in page
    assert not Database.objects.exists()


def test_capacity_error_lands_on_the_memory_field(logged_in, member, team, cluster):
    response = logged_in(member).post("/databases/new/", {
        "cluster": cluster.pk, "name": "huge", "memory_size": "100GB", "shard_count": 1,
        "persistence": "disabled", "eviction_policy": "volatile-lru"})
    assert response.status_code == 400
    assert "free" in " ".join(response.context["form"].errors["memory_size"])
    assert not Database.objects.exists()


def test_preview_shows_yaml_and_saves_nothing(logged_in, member, team, cluster):
    response = logged_in(member).post("/databases/new/", {
        "cluster": cluster.pk, "name": "orders", "memory_size": "300MB", "shard_count": 2,
        "persistence": "disabled", "eviction_policy": "volatile-lru", "preview": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "kind: RedisEnterpriseDatabase" in page and "memorySize: 300MB" in page and "shardCount: 2" in page
    assert not Database.objects.exists()


def test_create_form_has_defaults_and_labels(logged_in, member, cluster):
    page = logged_in(member).get("/databases/new/").content.decode()
    assert 'value="100MB"' in page and "volatile-lru" in page
    for field in ("cluster", "name", "memory_size", "shard_count", "replication", "persistence"):
        assert f'<label for="id_{field}"' in page


def test_edit_database_keeps_fields_the_form_does_not_show(logged_in, member, team, make_database):
    database = make_database("orders", team, modulesList=[])
    response = logged_in(member).post(f"/databases/{database.pk}/edit/", {
        "memory_size": "150MB", "shard_count": 1, "persistence": "disabled", "eviction_policy": "noeviction",
        "generation": database.generation})
    database.refresh_from_db()
    assert response.status_code == 302
    assert database.spec["memorySize"] == "150MB" and database.spec["evictionPolicy"] == "noeviction"
    assert database.spec["databasePort"] == 12001 and database.generation == 2


def test_edit_from_a_stale_page_is_refused(logged_in, member, team, make_database):
    database = make_database("orders", team)
    response = logged_in(member).post(f"/databases/{database.pk}/edit/", {
        "memory_size": "150MB", "shard_count": 1, "persistence": "disabled", "eviction_policy": "noeviction",
        "generation": database.generation + 5})
    assert response.status_code == 400 and "changed since generation" in response.content.decode()
    database.refresh_from_db()
    assert database.spec["memorySize"] == "100MB"


def test_only_staff_create_clusters(logged_in, member, staff_user):
    assert logged_in(member).get("/clusters/new/").status_code == 403
    response = logged_in(staff_user).post("/clusters/new/", {
        "name": "edge", "namespace": "edge", "nodes": 3, "node_memory": "2Gi", "node_cpu": "1",
        "persistence_enabled": "on", "volume_size": "1Gi"})
    cluster = Cluster.objects.get(name="edge")
    assert response.status_code == 302 and response["Location"] == f"/clusters/{cluster.pk}/"
    assert cluster.spec["redisEnterpriseNodeResources"]["limits"]["memory"] == "2Gi"
    assert cluster.namespace == "edge"


def test_cluster_form_shows_the_validators_message(logged_in, staff_user):
    response = logged_in(staff_user).post("/clusters/new/", {
        "name": "edge", "nodes": 4, "node_memory": "2Gi", "node_cpu": "1", "volume_size": "1Gi"})
    assert response.status_code == 400
    assert "odd" in " ".join(response.context["form"].errors["nodes"])
    assert not Cluster.objects.filter(name="edge").exists()


def test_reveal_credentials_returns_the_password_and_records_who(logged_in, member, team, make_database):
    database = make_database("orders", team)
    response = logged_in(member).post(f"/databases/{database.pk}/credentials/", HTTP_ACCEPT="application/json")
    body = response.json()
    assert body["password"] == database.password
    assert f"-p {body['port']}" in body["redis_cli"] and response["Cache-Control"] == "no-store"
    event = Event.objects.get(object_kind="database", object_id=database.pk, reason="CredentialsRevealed")
    assert event.actor == "alice" and database.password not in event.message


def test_a_tls_database_shows_its_certificate_expiry_and_reveals_the_ca(logged_in, member, team, make_database):
    database = make_database("orders", team, tlsMode="enabled")
    database.status = {"state": "active", "tlsCertificateExpires": "2027-02-25T15:00:00Z"}
    database.save(update_fields=["status"])
    client = logged_in(member)
    page = client.get(f"/databases/{database.pk}/").content.decode()
    assert 'valid until <time datetime="2027-02-25T15:00:00Z">' in page
    body = client.post(f"/databases/{database.pk}/credentials/", HTTP_ACCEPT="application/json").json()
    assert body["ca_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert "--tls --cacert ca.crt" in body["redis_cli"] and "PRIVATE KEY" not in str(body)
    page = client.post(f"/databases/{database.pk}/credentials/").content.decode()  # without JavaScript
    assert 'id="credential-ca-field" hidden' not in page and "BEGIN CERTIFICATE" in page


def test_reveal_without_javascript_renders_the_page(logged_in, member, team, make_database):
    database = make_database("orders", team)
    page = logged_in(member).post(f"/databases/{database.pk}/credentials/").content.decode()
    assert f'value="{database.password}"' in page


def test_upgrade_asks_for_confirmation_then_changes_the_version(logged_in, member, team, make_database,
                                                                two_versions):
    database = make_database("orders", team, redisVersion="7.0")
    client = logged_in(member)
    page = client.get(f"/databases/{database.pk}/upgrade/").content.decode()
    assert "Redis 7.0 <span" in page and "Redis 7.2 (newer)" in page

    confirm = client.post(f"/databases/{database.pk}/upgrade/", {"version": "7.2", "generation": 1})
    assert "from Redis <strong>7.0</strong> to Redis <strong>7.2</strong>" in confirm.content.decode()
    database.refresh_from_db()
    assert database.spec["redisVersion"] == "7.0"

    done = client.post(f"/databases/{database.pk}/upgrade/", {"version": "7.2", "generation": 1, "confirm": "yes"})
    database.refresh_from_db()
    assert done.status_code == 302 and database.spec["redisVersion"] == "7.2" and database.generation == 2


def test_upgrade_to_an_unknown_version_changes_nothing(logged_in, member, team, make_database, two_versions):
    database = make_database("orders", team, redisVersion="7.0")
    response = logged_in(member).post(f"/databases/{database.pk}/upgrade/", {"version": "9.9", "confirm": "yes"})
    assert response.status_code == 400
    database.refresh_from_db()
    assert database.spec["redisVersion"] == "7.0" and database.generation == 1


def test_delete_needs_the_name_and_says_whether_data_is_kept(logged_in, member, team, make_database):
    database = make_database("orders", team)
    client = logged_in(member)
    page = client.get(f"/databases/{database.pk}/delete/").content.decode()
    assert "<code>redis-server</code> processes" in page and "data (volumes or files) is <strong>kept</strong>" in page

    assert client.post(f"/databases/{database.pk}/delete/", {"confirm_name": "nope"}).status_code == 400
    database.refresh_from_db()
    assert database.deletion_requested_at is None

    response = client.post(f"/databases/{database.pk}/delete/", {"confirm_name": "orders", "delete_data": "on"})
    database.refresh_from_db()
    assert response.status_code == 302 and database.deletion_requested_at is not None and database.delete_data


def test_state_endpoint_refetches_views_and_events_of_visible_objects(logged_in, member, team, other_team,
                                                                      cluster, make_database):
    mine = make_database("orders", team, port=12001)
    theirs = make_database("search-cache", other_team, port=12002)
    write_status(mine, Observation(state=managed.DB_ACTIVE), mine.generation)
    body = logged_in(member).get("/state/", {
        "o": [f"database-{mine.pk}", f"database-{theirs.pk}", f"cluster-{cluster.pk}", "database-999999"],
        "events": [f"database-{mine.pk}"]}).json()
    views = {entry["view"]["key"]: entry["view"] for entry in body["objects"]}
    assert views[f"database-{mine.pk}"]["state"] == "active"
    assert f"cluster-{cluster.pk}" in views
    assert body["missing"] == sorted([f"database-{theirs.pk}", "database-999999"])
    assert [e["reason"] for e in body["events"][f"database-{mine.pk}"]] == ["StateChanged"]
    assert mine.password not in str(body)


def test_static_files_are_served(client):
    response = client.get("/static/frontend/live.js")
    assert response.status_code == 200


def test_state_endpoint_keeps_the_timeline_of_a_deleted_database_for_its_team(logged_in, member, outsider, team,
                                                                               make_database):
    database = make_database("orders", team)
    key = f"database-{database.pk}"
    write_status(database, Observation(state=managed.DB_ACTIVE), database.generation)
    database.delete()
    body = logged_in(member).get("/state/", {"o": key, "events": key}).json()
    assert body["missing"] == [key] and [e["reason"] for e in body["events"][key]] == ["StateChanged"]
    body = logged_in(outsider).get("/state/", {"o": key, "events": key}).json()
    assert body["events"][key] == []


def test_staff_upgrade_a_cluster_and_members_may_not(logged_in, staff_user, member, cluster, two_versions):
    from clusters.services import update_cluster

    update_cluster(cluster, spec={"nodes": 3, "redisEnterpriseImageSpec": {"versionTag": "7.0"}}, actor="test")
    assert logged_in(member).get(f"/clusters/{cluster.pk}/upgrade/").status_code == 403
    client = logged_in(staff_user)
    assert "Redis 7.2 (newer)" in client.get(f"/clusters/{cluster.pk}/upgrade/").content.decode()
    response = client.post(f"/clusters/{cluster.pk}/upgrade/", {"version": "7.2", "confirm": "yes"})
    cluster.refresh_from_db()
    assert response.status_code == 302
    assert cluster.spec["redisEnterpriseImageSpec"]["versionTag"] == "7.2"


def test_a_refusal_is_a_page_that_says_why(logged_in, member, cluster):
    response = logged_in(member).get(f"/clusters/{cluster.pk}/edit/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode() and "You may not change this." in response.content.decode()


def test_database_page_offers_back_up_now_and_shows_a_failed_backup_with_its_reason(
        logged_in, member, outsider, team, make_database, tmp_path):
    from backups.models import BackupRun

    plain = make_database("plain", team)
    assert "No backups" in logged_in(member).get(f"/databases/{plain.pk}/").content.decode()
    database = make_database("orders", team, port=12002, backup={"interval": 3600,
                                                                 "mount": {"path": str(tmp_path / "b")}})
    page = logged_in(member).get(f"/databases/{database.pk}/").content.decode()
    assert "Back up now" in page and str(tmp_path / "b") in page and "none yet" in page
    assert logged_in(outsider).post(f"/databases/{database.pk}/backup/").status_code == 404
    # Nothing runs for this row: the backup fails, and the page says why.
    page = logged_in(member).post(f"/databases/{database.pk}/backup/", follow=True).content.decode()
    run = BackupRun.objects.get(database=database)
    assert not run.ok and run.error and run.actor == "alice"
    assert "failed" in page and "Last error" in page


def test_huge_numbers_in_dashboard_urls_and_forms_are_not_server_errors(logged_in, member, team, cluster):
    client = logged_in(member)
    huge = "9" * 30
    assert client.get(f"/databases/{huge}/").status_code == 404
    assert client.get(f"/databases/new/?cluster={huge}").status_code == 200
    assert client.get(f"/state/?o=database-{huge}&events=database-{huge}").status_code == 200
    response = client.post("/databases/new/", {
        "cluster": cluster.pk, "name": "wide", "memory_size": "1GB", "shard_count": "9" * 20,
        "persistence": "disabled", "eviction_policy": "volatile-lru", "generation": "9" * 5000})
    assert response.status_code == 400
    assert response.context["form"].errors["shard_count"] == ["must be at most 512"]
    assert not Database.objects.exists()
