"""Hostile input gets a field-level 4xx and changes nothing: never a 500, a traceback or a silent coercion."""
from __future__ import annotations

import pytest

from databases.models import Database

from .conftest import DATABASE_SPEC
from .test_errors import assert_json_error

pytestmark = pytest.mark.django_db

DATABASES = "/api/v1/clusters/rec/databases/"
ORDERS = DATABASES + "orders/"
YAML = "application/yaml"


def create(client, spec: dict, name: str = "fresh", **body):
    return client.post(DATABASES, {"name": name, "spec": spec, **body}, format="json")


def raw_post(client, url: str, text: str, content_type: str = "application/json", **headers):
    return client.generic("POST", url, text.encode(), content_type=content_type, **headers)


# --- item 1: shardCount and every number bounded ------------------------------------------------------

def test_an_absurd_shard_count_is_a_field_error_and_stores_nothing(member_api, cluster):
    body = assert_json_error(create(member_api, {"memorySize": "1GB", "shardCount": 99999999999999999999}), 400)
    assert body["errors"]["spec.shardCount"] == ["must be at most 512"]
    assert not Database.objects.exists()


def test_each_shard_needs_100mb(member_api, cluster):
    body = assert_json_error(create(member_api, {"memorySize": "200MB", "shardCount": 8}), 400)
    assert body["errors"]["spec.shardCount"] == [
        "each shard needs at least 100MB: a memorySize of 200MB allows at most 2 shards"]


def test_cluster_nodes_are_bounded(staff_api, db):
    response = staff_api.post("/api/v1/clusters/", {"name": "huge", "spec": {"nodes": 10**20 + 1}}, format="json")
    assert assert_json_error(response, 400)["errors"]["spec.nodes"] == ["must be at most 31"]


# --- item 3: 500s that must be 4xx --------------------------------------------------------------------

def test_an_unknown_version_on_patch_is_a_field_error(member_api, database):
    body = assert_json_error(member_api.patch(ORDERS, {"spec": {"redisVersion": "abc"}}, format="json"), 400)
    assert body["errors"]["spec.redisVersion"][0].startswith("version abc is not available on target local")


def test_an_unknown_version_on_upgrade_is_a_field_error(member_api, database):
    body = assert_json_error(member_api.post(ORDERS + "upgrade/", {"version": "7.x"}, format="json"), 400)
    assert body["errors"]["version"][0].startswith("version 7.x is not available")
    assert_json_error(member_api.post(ORDERS + "upgrade/", {"version": 7.2}, format="json"), 400)


@pytest.mark.parametrize("size", ["1" * 400, "9" * 400 + "MB"])
def test_a_400_digit_memory_size_is_a_field_error(member_api, cluster, size):
    body = assert_json_error(create(member_api, {"memorySize": size}), 400)
    assert "spec.memorySize" in body["errors"]


def test_a_400_digit_integer_is_a_field_error(member_api, cluster):
    response = raw_post(member_api, DATABASES, '{"name": "x", "spec": {"memorySize": %s}}' % ("9" * 400))
    assert assert_json_error(response, 400)["errors"]["spec.memorySize"] == ["must be at most 1024TB"]
    response = raw_post(member_api, DATABASES, '{"name": "x", "spec": {"shardCount": %s}}' % ("9" * 400))
    assert assert_json_error(response, 400)["errors"]["spec.shardCount"] == ["must be at most 512"]


def test_json_nested_2000_deep_is_a_400(member_api, cluster):
    deep = '{"name": "x", "spec": {"backup": ' + "[" * 2000 + "]" * 2000 + "}}"
    body = assert_json_error(raw_post(member_api, DATABASES, deep), 400)
    assert "nested deeper than 32 levels" in body["errors"]["body"][0]


def test_json_infinity_is_a_400(member_api, cluster):
    body = assert_json_error(raw_post(member_api, DATABASES, '{"name": "x", "spec": {"backup": 1e400}}'), 400)
    assert body["errors"]["body"] == ["JSON numbers must be finite"]


def test_yaml_nested_3000_deep_is_a_400(staff_api, db):
    text = "apiVersion: v1\nkind: List\nitems: " + "[" * 3000 + "]" * 3000 + "\n"
    body = assert_json_error(raw_post(staff_api, "/api/v1/apply/", text, YAML), 400)
    assert "nested deeper than 32 levels" in body["errors"]["documents"][0]


def test_a_body_over_the_limit_is_a_413(member_api, cluster, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    settings.CONTROLPLANE_APPLY_LIMITS = {**settings.CONTROLPLANE_APPLY_LIMITS, "max_bytes": 10_000}
    padding = "x" * 20_000
    body = assert_json_error(create(member_api, {"memorySize": "100MB"}, name="big", padding=padding), 413)
    assert body["errors"]["body"] == ["the request body is larger than the limit of 10000 bytes"]
    assert_json_error(raw_post(member_api, "/api/v1/apply/", "# " + padding, YAML), 413)
    assert not Database.objects.exists()


def test_an_if_match_of_5000_digits_is_a_field_error(member_api, database):
    response = member_api.patch(ORDERS, {"spec": {"memorySize": "300MB"}}, format="json",
                                HTTP_IF_MATCH='"' + "9" * 5000 + '"')
    assert "If-Match" in assert_json_error(response, 400)["errors"]
    response = member_api.patch(ORDERS, {"generation": 10**30, "spec": {}}, format="json")
    assert "generation" in assert_json_error(response, 400)["errors"]


@pytest.mark.parametrize("query", ["limit=" + "9" * 30, "offset=" + "9" * 30, "limit=0", "limit=abc"])
def test_huge_or_wrong_paging_is_a_field_error(member_api, database, query):
    body = assert_json_error(member_api.get(f"{DATABASES}?{query}"), 400)
    assert set(body["errors"]) == {query.split("=")[0]}


def test_duplicate_yaml_keys_are_an_error_naming_the_key(staff_api, db):
    text = ("apiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseDatabase\nmetadata: {name: a}\n"
            "spec:\n  memorySize: 100MB\n  memorySize: 1GB\n")
    body = assert_json_error(raw_post(staff_api, "/api/v1/apply/", text, YAML), 400)
    assert "duplicate key 'memorySize'" in body["errors"]["documents"][0]


def test_wrong_types_are_refused_not_coerced(member_api, cluster):
    body = assert_json_error(create(member_api, {"memorySize": "100MB"}, name=123), 400)
    assert body["errors"]["name"] == ["must be a string, not int."]
    body = assert_json_error(create(member_api, {"memorySize": 1.5e9}), 400)
    assert body["errors"]["spec.memorySize"] == ["must be a memory size such as 100MB, 1GB, 512Mi or 2Gi"]
    assert not Database.objects.exists()


def test_yaml_names_must_be_strings(staff_api, db):
    text = "apiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseDatabase\nmetadata: {name: 123}\nspec: {}\n"
    body = assert_json_error(raw_post(staff_api, "/api/v1/apply/", text, YAML), 400)
    assert body["errors"]["documents[0].metadata.name"] == ["must be a string, not int"]


# --- item 4: databasePort from the target's range, once per target ----------------------------------------

@pytest.mark.parametrize("port", [22, 1023, 6390, 17000, 26400, 65535])
def test_database_port_outside_the_range_is_refused(member_api, cluster, port):
    body = assert_json_error(create(member_api, {"databasePort": port}), 400)
    assert body["errors"]["spec.databasePort"] == [
        "must be in 12000-12999, the database port range of target local"]


def test_database_port_is_unique_per_target(member_api, staff_api, database, team):
    from clusters.services import create_cluster

    other = create_cluster(name="other", namespace="other", spec={"nodes": 1}, actor="test").obj
    team_port = database.spec["databasePort"]
    response = member_api.post(f"/api/v1/clusters/{other.name}/databases/",
                               {"name": "copy", "spec": {"databasePort": team_port}}, format="json")
    assert assert_json_error(response, 400)["errors"]["spec.databasePort"] == [
        f"port {team_port} is already used by database orders of cluster rec on target local"]
    response = member_api.post(f"/api/v1/clusters/{other.name}/databases/", {"name": "copy", "spec": {}},
                               format="json")
    assert response.status_code == 201 and response.json()["spec"]["databasePort"] != team_port


def test_the_example_spec_still_creates(member_api, cluster):
    assert create(member_api, dict(DATABASE_SPEC)).status_code == 201


def test_thousands_of_unknown_fields_get_a_bounded_answer(member_api, cluster):
    spec = {f"field{i}": 1 for i in range(5000)}
    body = assert_json_error(create(member_api, spec), 400)
    assert len(body["errors"]) == 51 and body["errors"]["more"] == ["4950 more problems not shown"]


@pytest.mark.parametrize("text", ['"a\\u0000b"', '"\\ud800"'])
def test_strings_a_database_cannot_store_are_refused(member_api, cluster, text):
    response = raw_post(member_api, DATABASES, '{"name": "x", "spec": {"backup": ' + text + "}}")
    body = assert_json_error(response, 400)
    assert body["errors"]["body"] == ["JSON strings must be UTF-8 text without NUL characters"]


@pytest.mark.parametrize("kubeconfig", ["contexts: " + "[" * 3000 + "]" * 3000, "contexts: [" + "9" * 5000 + "]"])
def test_a_hostile_kubeconfig_is_a_field_error(staff_api, db, kubeconfig):
    response = staff_api.post("/api/v1/targets/", {"name": "far", "kubeconfig": kubeconfig}, format="json")
    assert assert_json_error(response, 400)["errors"]["kubeconfig"][0].startswith("is not valid YAML")
    response = staff_api.post("/api/v1/targets/", {"name": 123, "kubeconfig": ""}, format="json")
    assert assert_json_error(response, 400)["errors"]["name"] == ["must be a string, not int."]


REDB_HEAD = "apiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseDatabase\n"
REC_HEAD = "apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseCluster\n"


@pytest.mark.parametrize("text", [
    REC_HEAD + "metadata: {name: r2, namespace: 7, annotations: {redis-controlplane.io/target: [1]}}\nspec: {}\n",
    REC_HEAD + "metadata: {name: r2, namespace: n2}\nspec: {nodes: 1e3, persistentSpec: {volumeSize: .inf}}\n",
    REDB_HEAD + "metadata: {name: a}\nspec: {redisEnterpriseCluster: x, memorySize: [1]}\n",
    REDB_HEAD + "metadata: {name: a}\nspec: {redisEnterpriseCluster: {name: [rec]}}\n",
    REDB_HEAD + "metadata: {name: a, namespace: default}\nspec: {databasePort: 0x16, redisVersion: 7.2}\n",
    REDB_HEAD + "metadata: {name: a}\nspec: !!binary aGVsbG8=\n",
    REDB_HEAD + "metadata: {name: a}\nspec: {? [a, b] : 1}\n",
    "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
    "- 1\n- [2]\n",
    "%YAML 9.9\n---\na: 1\n",
])
def test_hostile_yaml_documents_are_field_errors(staff_api, cluster, text):
    body = assert_json_error(raw_post(staff_api, "/api/v1/apply/?team=payments", text, YAML), 400)
    assert body["errors"]


@pytest.mark.parametrize("spec", [
    {"nodes": True}, {"nodes": 3.0}, {"persistentSpec": "x"}, {"persistentSpec": {"volumeSize": 1.5}},
    {"redisEnterpriseNodeResources": {"limits": "x"}}, {"redisEnterpriseNodeResources": {"limits": {"cpu": [2]}}},
    {"redisEnterpriseNodeResources": {"limits": {"cpu": "9" * 400, "memory": "9" * 400}}},
    {"redisEnterpriseImageSpec": {"versionTag": ["7.2"]}}, {"redisEnterpriseImageSpec": "7.2"},
    {"nodeSelector": {"a": {"b": 1}}}, {"podTolerations": {"a": 1}}, {"extraLabels": {"k": "v" * 300}},
    {"username": 7}, {"ingressOrRouteSpec": {"method": 1}},
])
def test_hostile_cluster_specs_are_field_errors(staff_api, cluster, spec):
    response = staff_api.put("/api/v1/clusters/rec/", {"name": "rec", "spec": spec}, format="json")
    assert any(path.startswith("spec") for path in assert_json_error(response, 400)["errors"])
