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


def test_a_member_may_not_change_another_teams_database_through_yaml(outsider_api, database):
    stored = dict(database.spec)
    text = """
apiVersion: app.redislabs.com/v1alpha1
kind: RedisEnterpriseDatabase
metadata: {name: orders}
spec: {memorySize: 512MB, redisEnterpriseCluster: {name: rec}}
"""
    before = counts()
    response = apply(outsider_api, text)

    assert response.status_code == 403
    assert "another team" in response.json()["detail"]
    database.refresh_from_db()
    assert database.spec == stored and database.generation == 1
    assert counts() == before


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
