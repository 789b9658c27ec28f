"""`POST /api/v1/apply/`: REC/REDB YAML through the same services, all or nothing, with the API's permissions."""
from __future__ import annotations

from pathlib import Path

import pytest

from clusters.models import Cluster
from databases.models import Database
from timeline.models import Event

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
YAML = "application/yaml"


def apply(client, text: str, query: str = ""):
    return client.generic("POST", f"/api/v1/apply/{query}", text.encode(), content_type=YAML)


def counts() -> tuple[int, int, int]:
    return Cluster.objects.count(), Database.objects.count(), Event.objects.count()


def test_staff_apply_the_operators_example_files_unchanged(staff_api, team):
    text = (EXAMPLES / "rec.yaml").read_text() + "\n---\n" + (EXAMPLES / "redb.yaml").read_text()

    response = apply(staff_api, text, "?team=payments")

    assert response.status_code == 200, response.json()
    items = response.json()["items"]
    assert [(i["kind"], i["name"], i["created"]) for i in items] == [
        ("RedisEnterpriseCluster", "rec", True), ("RedisEnterpriseDatabase", "redb", True)]
    assert items[1]["cluster"] == "rec"
    assert Database.objects.get(name="redb").team == team
    detail = staff_api.get("/api/v1/clusters/rec/databases/redb/").json()
    assert detail["spec"]["memorySize"] == "256MB" and detail["spec"]["replication"] is True

    again = apply(staff_api, text)
    assert again.status_code == 200
    assert [i["changed"] for i in again.json()["items"]] == [False, False]


def test_a_member_applies_a_database_owned_by_their_team(member_api, cluster, team):
    response = apply(member_api, (EXAMPLES / "redb.yaml").read_text())

    assert response.status_code == 200, response.json()
    assert Database.objects.get(name="redb").team == team
    assert Event.objects.filter(object_kind="database", reason="Created", actor="alice").exists()


def test_a_member_may_not_apply_a_cluster(member_api, db):
    before = counts()
    response = apply(member_api, (EXAMPLES / "rec.yaml").read_text())

    assert response.status_code == 403
    assert "documents[0]" in response.json()["detail"]
    assert counts() == before


def test_another_teams_database_looks_exactly_like_a_name_taken_by_no_one_you_can_see(outsider_api, database):
    """Team B applying team A's `orders` gets what creating any taken name gets: no team, port or spec of A's."""
    stored = dict(database.spec)
    text = """
apiVersion: app.redislabs.com/v1alpha1
kind: RedisEnterpriseDatabase
metadata: {name: orders}
spec: {memorySize: 512MB, databasePort: 12999, redisEnterpriseCluster: {name: rec}}
"""
    before = counts()
    response = apply(outsider_api, text)

    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {"documents[0].metadata.name": ["a database named orders already exists on cluster rec"]}
    raw = response.content.decode()
    port = str(database.spec["databasePort"])
    assert "payments" not in raw and "another team" not in raw and port not in raw
    # The same answer as the REST create of that name, and as a YAML name clash inside one's own team's view.
    created = outsider_api.post("/api/v1/clusters/rec/databases/", {"name": "orders", "spec": {
        "memorySize": "512MB", "databasePort": 12999}}, format="json")
    assert created.status_code == 400 and created.json()["errors"]["name"] == body["errors"][
        "documents[0].metadata.name"]
    database.refresh_from_db()
    assert database.spec == stored and database.generation == 1
    assert counts() == before


def test_an_oversized_body_is_413_before_it_is_parsed(staff_api, db, settings):
    limit = settings.CONTROLPLANE_APPLY_LIMITS["max_bytes"]
    text = "# padding\n" * (limit // 10 + 1)
    response = apply(staff_api, text)

    assert response.status_code == 413
    assert f"at most {limit} bytes" in response.json()["detail"] and "nothing was applied" in response.json()["detail"]


def test_too_many_documents_and_an_oversized_document_are_field_errors(staff_api, cluster, team, settings):
    most = settings.CONTROLPLANE_APPLY_LIMITS["max_documents"]
    item = ("  - {{apiVersion: app.redislabs.com/v1alpha1, kind: RedisEnterpriseDatabase, metadata: {{name: d{}}}, "
            "spec: {{memorySize: 100MB, redisEnterpriseCluster: {{name: rec}}}}}}\n")
    listing = "apiVersion: v1\nkind: List\nitems:\n" + "".join(item.format(i) for i in range(most + 1))
    before = counts()
    response = apply(staff_api, listing, "?team=payments")
    assert response.status_code == 400
    assert f"more than {most} documents" in response.json()["errors"]["documents"][0]
    assert counts() == before

    per_document = settings.CONTROLPLANE_APPLY_LIMITS["max_document_bytes"]
    big = ("apiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseDatabase\nmetadata: {name: big}\n"
           f"spec: {{memorySize: 100MB, note: '{'x' * per_document}'}}\n")
    response = apply(staff_api, big, "?team=payments")
    assert response.status_code == 400
    assert f"at most {per_document}" in response.json()["errors"]["documents[0]"][0]

    # The most documents the bounds accept do apply.
    accepted = "apiVersion: v1\nkind: List\nitems:\n" + "".join(item.format(i) for i in range(most))
    assert apply(staff_api, accepted, "?team=payments").status_code == 200
    assert Database.objects.count() == most


def test_one_bad_document_applies_nothing(staff_api, team):
    text = (EXAMPLES / "rec.yaml").read_text() + """
---
apiVersion: app.redislabs.com/v1alpha1
kind: RedisEnterpriseDatabase
metadata: {name: too-small}
spec: {memorySize: 10MB}
"""
    before = counts()
    response = apply(staff_api, text, "?team=payments")

    assert response.status_code == 400
    assert "documents[1].spec.memorySize" in response.json()["errors"]
    assert counts() == before


def test_yaml_that_does_not_parse_is_a_400(staff_api, db):
    response = apply(staff_api, "kind: [unclosed")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_apply_takes_yaml_not_json(staff_api, db):
    response = staff_api.post("/api/v1/apply/", {"kind": "RedisEnterpriseCluster"}, format="json")
    assert response.status_code == 415
    assert response.json()["detail"]


def test_anonymous_apply_is_401(anonymous, db):
    response = apply(anonymous, (EXAMPLES / "rec.yaml").read_text())
    assert response.status_code == 401
    assert Cluster.objects.count() == 0


def test_targets_list_their_redis_versions(member_api, db):
    from targets.models import Target

    Target.objects.create(name="prod", kind=Target.KUBERNETES, settings={"in_cluster": False})

    response = member_api.get("/api/v1/targets/")

    assert response.status_code == 200
    targets = {t["name"]: t for t in response.json()}
    assert targets["local"]["kind"] == "local" and targets["local"]["isDefault"] is True
    assert targets["local"]["redisVersions"]
    assert targets["prod"]["kind"] == "kubernetes"
    assert "7.2" in targets["prod"]["redisVersions"]
