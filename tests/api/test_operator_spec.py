"""Issue 12 over the API: `spec` is typed by the CRDs' schema in the served OpenAPI document, every operator
field is accepted, and labels/annotations are kept and given back."""
from __future__ import annotations

import pytest

from operatorapi.rec import REC_SPEC
from operatorapi.redb import REDB_SPEC
from operatorapi.schema import REC, REDB, crd, spec_schema

from .conftest import CLUSTER_SPEC

pytestmark = pytest.mark.django_db


def test_spec_is_the_crd_schema_in_the_served_document(staff_api):
    response = staff_api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    components = response.json()["components"]["schemas"]
    assert components["RedisEnterpriseClusterSpec"] == spec_schema(REC_SPEC)
    assert components["RedisEnterpriseDatabaseSpec"] == spec_schema(REDB_SPEC)
    crd_spec = crd(REC)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert components["RedisEnterpriseClusterSpec"] == crd_spec
    for body, kind, suffix in (("Cluster", REC, ""), ("ClusterRequest", REC, ""),
                               ("PatchedClusterRequest", REC, "Patch"), ("Database", REDB, ""),
                               ("DatabaseRequest", REDB, ""), ("PatchedDatabaseRequest", REDB, "Patch")):
        spec = components[body]["properties"]["spec"]
        refs = [spec.get("$ref")] + [part.get("$ref") for part in spec.get("allOf", [])]
        assert f"#/components/schemas/{kind.kind}Spec{suffix}" in refs, body
    # A PATCH may send a key as null to remove it; nothing else differs.
    patch = components["RedisEnterpriseDatabaseSpecPatch"]
    assert all(prop["nullable"] for prop in patch["properties"].values())
    assert {k: {n: v for n, v in p.items() if n != "nullable"} for k, p in patch["properties"].items()} == \
        components["RedisEnterpriseDatabaseSpec"]["properties"]
    fields = components["RedisEnterpriseClusterSpec"]["properties"]
    assert {"upgradeSpec", "pullSecrets", "slaveHA", "sso", "nodes"} <= set(fields)
    assert fields["nodes"]["type"] == "integer"
    assert components["RedisEnterpriseDatabaseSpec"]["properties"]["persistence"]["enum"][0] == "disabled"


def test_every_operator_field_is_accepted_over_the_api(staff_api):
    spec = {**CLUSTER_SPEC, "slaveHA": {"slaveHAGracePeriod": 60}, "upgradeSpec": {"autoUpgradeRedisEnterprise": False},
            "bootstrapperImageSpec": {"versionTag": "7.8.6-13"}}
    response = staff_api.post("/api/v1/clusters/", {"name": "rec", "spec": spec}, format="json")
    assert response.status_code == 201, response.json()
    assert {w.split(":")[0] for w in response.json()["warnings"]} == {"spec.slaveHA", "spec.upgradeSpec",
                                                                   "spec.bootstrapperImageSpec"}

    bad = {**CLUSTER_SPEC, "slaveHA": {"slaveHAGracePeriod": "soon"}}
    response = staff_api.put("/api/v1/clusters/rec/", {"name": "rec", "spec": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"spec.slaveHA.slaveHAGracePeriod": ["must be a whole number"]}


def test_labels_and_annotations_are_kept_and_given_back(staff_api):
    body = {"name": "rec", "spec": CLUSTER_SPEC, "labels": {"team": "payments"},
            "annotations": {"example.com/owner": "ops"}}
    created = staff_api.post("/api/v1/clusters/", body, format="json").json()
    assert created["labels"] == {"team": "payments"} and created["annotations"] == {"example.com/owner": "ops"}
    assert created["warnings"] == []

    patched = staff_api.patch("/api/v1/clusters/rec/", {"labels": {"team": "ledger"}}, format="json")
    assert patched.status_code == 200
    assert patched.json()["labels"] == {"team": "ledger"} and patched.json()["generation"] == 1
    assert patched.json()["annotations"] == {"example.com/owner": "ops"}  # left out: left as it was

    refused = staff_api.patch("/api/v1/clusters/rec/", {"labels": {"team": "no spaces"}}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["metadata.labels.team"]
    assert staff_api.get("/api/v1/clusters/rec/").json()["labels"] == {"team": "ledger"}
