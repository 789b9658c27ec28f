"""Item 0 of issue 12: every field the Redis Enterprise operator defines is known, unused ones are still
checked against the operator's definition, RS image tags are not Redis versions, and Kubernetes labels and
annotations are kept."""
from __future__ import annotations

import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from clusters.models import Cluster
from clusters.services import create_cluster, update_cluster
from clusters.validation import SPEC_FIELDS as REC_FIELDS
from core.errors import SpecError
from databases.services import create_database
from databases.validation import SPEC_FIELDS as REDB_FIELDS
from manifests.documents import apply_documents, dump_objects
from operatorapi.field import ANY, ARRAY, BOOLEAN, INTEGER, MAP, NUMBER, OBJECT, QUANTITY, USED, Field
from operatorapi.images import is_enterprise_version
from operatorapi.rec import REC_SPEC
from operatorapi.redb import REDB_SPEC
from operatorapi.schema import spec_schema

from .conftest import errors_of

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# The reference table of the operator's fields lives beside the clone (shared/), not in the product.
FIELDS_MD = Path(os.environ.get("RE_OPERATOR_FIELDS", ROOT.parent / "shared" / "reference" / "re-operator-fields.md"))


def reference_fields() -> dict[str, set[str]]:
    """{"REC": {...}, "REDB": {...}}: the field names of the `## REC spec` / `## REDB spec` tables."""
    found: dict[str, set[str]] = {"REC": set(), "REDB": set()}
    section = None
    for line in FIELDS_MD.read_text().splitlines():
        if line.startswith("## "):
            words = line[3:].split()
            section = words[0] if len(words) > 1 and words[1] == "spec" else None
        elif section and line.startswith("| ") and not line.startswith(("| field", "|---")):
            found[section].add(line.strip("| ").split("|")[0].strip())
    return found


@pytest.mark.skipif(not FIELDS_MD.exists(), reason=f"{FIELDS_MD} is not beside the clone")
def test_every_field_of_the_reference_table_is_known():
    reference = reference_fields()
    assert len(reference["REC"]) > 60 and len(reference["REDB"]) > 30
    assert reference["REC"] <= REC_SPEC.names() and reference["REDB"] <= REDB_SPEC.names()
    assert reference["REC"] <= REC_FIELDS.used | REC_FIELDS.unused
    assert reference["REDB"] <= REDB_FIELDS.used | REDB_FIELDS.unused


def test_the_validators_know_exactly_the_defined_fields():
    assert REC_FIELDS.used == REC_SPEC.used() and REDB_FIELDS.used == REDB_SPEC.used()
    assert REDB_FIELDS.unused == REDB_SPEC.unused()
    assert REC_SPEC.unused() <= REC_FIELDS.unused
    for name in ("upgradeSpec", "bootstrapperImageSpec", "slaveHA", "services", "volumes", "sso", "enforceIPv4",
                 "usageReportFields", "redisEnterpriseIPFamily", "ossClusterSettings", "encryptPkeys"):
        assert name in REC_FIELDS.unused, name
    for name in ("ossClusterSettings", "connectionSettings", "auditing", "rofRamRatio", "searchOnBigstore",
                 "memcachedSaslSecretName"):
        assert name in REDB_FIELDS.unused, name


def sample(field: Field, kind: str | None = None) -> object:
    """A value of `field` the operator's schema admits (all nested fields filled)."""
    kind = kind or field.type
    if kind == OBJECT:
        return {child.name: sample(child) for child in field.fields}
    if kind == ARRAY:
        return [sample(field, field.items or ANY)]
    if kind == MAP:
        return {"example.com/key": sample(field, field.items or ANY)}
    return {ANY: {}, INTEGER: 1, NUMBER: 1.5, BOOLEAN: True, QUANTITY: "1Gi"}.get(
        kind, field.enum[0] if field.enum else "value")


def unused_sample(definition: Field) -> dict:
    return {field.name: sample(field) for field in definition.fields if field.support != USED}


def test_every_unused_field_is_accepted_with_one_warning_each(local_target, rec_spec):
    extra = unused_sample(REC_SPEC)
    jsonschema.validate({**rec_spec, **extra}, spec_schema(REC_SPEC))  # the CRD admits the same spec
    result = create_cluster(name="rec", spec={**rec_spec, **extra}, actor="test")
    warned = {warning.split(":")[0] for warning in result.warnings}
    assert warned == {f"spec.{name}" for name in extra}
    assert all(result.obj.spec[name] == value for name, value in extra.items())

    database_extra = unused_sample(REDB_SPEC)
    jsonschema.validate({"memorySize": "100MB", **database_extra}, spec_schema(REDB_SPEC))
    database = create_database(cluster=result.obj, name="db", spec={"memorySize": "100MB", **database_extra},
                               team=None, actor="test")
    assert {w.split(":")[0] for w in database.warnings} == {f"spec.{name}" for name in database_extra}


@pytest.mark.parametrize("field, value, path, message", [
    ("upgradeSpec", {"autoUpgradeRedisEnterprise": True, "autoUpgradeRedisEnterprize": True},
     "spec.upgradeSpec.autoUpgradeRedisEnterprize",
     "unknown field 'autoUpgradeRedisEnterprize'; did you mean 'autoUpgradeRedisEnterprise'?"),
    ("slaveHA", {}, "spec.slaveHA.slaveHAGracePeriod", "is required"),
    ("slaveHA", {"slaveHAGracePeriod": "soon"}, "spec.slaveHA.slaveHAGracePeriod", "must be a whole number"),
    ("enforceIPv4", "yes", "spec.enforceIPv4", "must be true or false"),
    ("redisUpgradePolicy", "sometimes", "spec.redisUpgradePolicy", "'sometimes' is not one of: major, latest"),
    ("pullSecrets", {"name": "x"}, "spec.pullSecrets", "must be a list"),
    ("pullSecrets", [{"name": "x", "nmae": "y"}], "spec.pullSecrets[0].nmae", "unknown field 'nmae'; did you "
                                                                            "mean 'name'?"),
    ("podAnnotations", {"a": 1}, "spec.podAnnotations.a", "must be a string"),
    ("volumes", [{"name": "v", "emptyDir": {}}], None, None),
])
def test_unused_fields_are_checked_against_the_operator_definition(local_target, rec_spec, field, value, path,
                                                                    message):
    rec_spec[field] = value
    if path is None:
        assert create_cluster(name="rec", spec=rec_spec, actor="test").warnings
        return
    assert errors_of(create_cluster, name="rec", spec=rec_spec, actor="test") == {path: [message]}


def test_a_used_object_needs_what_the_operator_requires(local_target, rec_spec):
    rec_spec["ingressOrRouteSpec"] = {"method": "ingress"}
    errors = errors_of(create_cluster, name="rec", spec=rec_spec, actor="test")
    assert errors == {"spec.ingressOrRouteSpec.apiFqdnUrl": ["is required"],
                      "spec.ingressOrRouteSpec.dbFqdnSuffix": ["is required"]}


def test_redis_enterprise_image_tags_are_told_apart_from_redis_versions():
    assert is_enterprise_version("8.0.20-44.23") and is_enterprise_version("7.8.6-13")
    assert is_enterprise_version("6.4.2-94.rhel8-openshift")
    assert not any(is_enterprise_version(v) for v in ("7.2", "7.4.1", "8.0", "latest", None, 7.2))


def test_the_operators_openshift_example_applies(local_target, versions):
    text = (EXAMPLES / "rec-openshift.yaml").read_text()
    (result,) = apply_documents(text, actor="test")
    cluster = result.obj
    assert result.created and cluster.spec["redisEnterpriseImageSpec"]["versionTag"] == versions[-1]
    assert cluster.spec["redisEnterpriseImageSpec"]["repository"] == \
        "registry.connect.redhat.com/redislabs/redis-enterprise"
    warned = [w.split(":")[0] for w in result.warnings]
    assert "documents[0].spec.redisEnterpriseImageSpec.versionTag" in warned
    assert "documents[0].spec.usageMeter" in warned and not [w for w in warned if "metadata" in w]
    assert "8.0.20-44.23 is a Redis Enterprise Software version" in " ".join(result.warnings)
    assert cluster.labels == {"app": "redis-enterprise"}
    (again,) = apply_documents(text, actor="test")
    assert (again.created, again.changed) == (False, False)


def test_an_enterprise_tag_on_update_keeps_the_version(local_target, rec_spec, versions):
    rec_spec["redisEnterpriseImageSpec"] = {"versionTag": versions[0]}
    cluster = create_cluster(name="rec", spec=rec_spec, actor="test").obj
    rec_spec["redisEnterpriseImageSpec"] = {"versionTag": "7.8.6-13"}
    result = update_cluster(cluster, spec=rec_spec, actor="test")
    assert not result.changed and cluster.spec["redisEnterpriseImageSpec"]["versionTag"] == versions[0]
    assert result.warnings


def test_labels_and_annotations_are_kept_and_given_back(local_target):
    text = (EXAMPLES / "rec.yaml").read_text().replace(
        "metadata:\n  name: rec\n",
        "metadata:\n  name: rec\n  labels: {team: payments}\n  annotations: {example.com/owner: ops}\n")
    (result,) = apply_documents(text, actor="test")
    assert result.warnings == []
    dumped = yaml.safe_load(dump_objects([Cluster.objects.get(name="rec")], as_list=False))
    assert dumped["metadata"]["labels"] == {"team": "payments"}
    assert dumped["metadata"]["annotations"] == {"example.com/owner": "ops", "redis-controlplane.io/target": "local"}
    (again,) = apply_documents(yaml.safe_dump(dumped), actor="test")
    assert (again.created, again.changed) == (False, False)

    dumped["metadata"]["labels"] = {"team": "ledger"}
    (relabelled,) = apply_documents(yaml.safe_dump(dumped), actor="test")
    cluster = Cluster.objects.get(name="rec")
    assert relabelled.changed and cluster.labels == {"team": "ledger"} and cluster.generation == 1


@pytest.mark.parametrize("metadata, path", [
    ("{name: rec, labels: {team: 'no spaces allowed'}}", "documents[0].metadata.labels.team"),
    ("{name: rec, labels: {'-bad': x}}", "documents[0].metadata.labels.-bad"),
    ("{name: rec, labels: {team: 5}}", "documents[0].metadata.labels.team"),
    ("{name: rec, annotations: {'Bad_Prefix/x': y}}", "documents[0].metadata.annotations.Bad_Prefix/x"),
    ("{name: rec, labels: [a]}", "documents[0].metadata.labels"),
])
def test_labels_and_annotations_follow_the_kubernetes_rules(local_target, metadata, path):
    text = f"apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseCluster\nmetadata: {metadata}\nspec: {{nodes: 1}}\n"
    with pytest.raises(SpecError) as info:
        apply_documents(text, actor="test")
    assert list(info.value.errors) == [path]
    assert not Cluster.objects.exists()


def test_a_stored_spec_is_not_made_invalid_by_the_shape_of_an_unused_field(cluster):
    from clusters.validation import stored_cluster_problems
    from core.drivers import driver_for

    Cluster.objects.filter(pk=cluster.pk).update(spec={**cluster.spec, "slaveHA": {}})  # accepted by an older release
    cluster.refresh_from_db()
    assert stored_cluster_problems(cluster, driver_for(cluster.target)) == []
    assert "spec.slaveHA.slaveHAGracePeriod" in errors_of(update_cluster, cluster, spec=cluster.spec, actor="test")


def test_an_upgrade_to_an_enterprise_tag_is_refused(cluster):
    from clusters.services import upgrade_cluster

    errors = errors_of(upgrade_cluster, cluster, version="8.0.20-44.23", actor="test")
    assert errors == {"version": ["8.0.20-44.23 is a Redis Enterprise Software version; give a Redis version "
                                  "(target local offers 7.0, 7.2)"]}
