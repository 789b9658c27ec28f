"""REC/REDB YAML: the operator's examples apply unchanged, files apply all or nothing, output round-trips."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clusters.models import Cluster
from core.errors import SpecError
from databases.models import Database
from manifests.documents import apply_documents, dump_objects

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REDB = """
apiVersion: app.redislabs.com/v1alpha1
kind: RedisEnterpriseDatabase
metadata: {name: %s}
spec: %s
"""


def apply(text, **kwargs):
    kwargs.setdefault("actor", "test")
    return apply_documents(text, **kwargs)


def errors_of_apply(text) -> dict:
    with pytest.raises(SpecError) as info:
        apply(text)
    return info.value.errors


def test_operator_examples_apply_unchanged(local_target, team):
    (rec,) = apply((EXAMPLES / "rec.yaml").read_text())
    (redb,) = apply((EXAMPLES / "redb.yaml").read_text(), team=team)
    assert rec.created and redb.created
    database = Database.objects.get(name="redb")
    assert database.cluster.name == "rec" and database.team == team
    assert database.spec["memorySize"] == "256MB" and database.spec["replication"] is True
    assert Cluster.objects.get(name="rec").spec["persistentSpec"]["volumeSize"] == "20Gi"


def test_example_with_several_documents(local_target):
    results = apply((EXAMPLES / "rec-and-databases.yaml").read_text())
    assert [(r.obj.kind, r.obj.name, r.created) for r in results] == [
        ("cluster", "payments", True), ("database", "sessions", True), ("database", "ledger-cache", True)]
    assert {d.cluster.namespace for d in Database.objects.all()} == {"payments"}


def test_reapplying_changes_nothing_and_a_change_updates(local_target):
    text = (EXAMPLES / "rec.yaml").read_text() + "---\n" + (EXAMPLES / "redb.yaml").read_text()
    apply(text)
    again = apply(text)
    assert [(r.created, r.changed) for r in again] == [(False, False), (False, False)]
    (updated,) = apply(REDB % ("redb", "{memorySize: 512MB, replication: true}"))
    assert updated.changed and updated.obj.generation == 2 and updated.obj.spec["memorySize"] == "512MB"


def test_get_output_round_trips(local_target):
    apply((EXAMPLES / "rec.yaml").read_text() + "---\n" + (EXAMPLES / "redb.yaml").read_text())
    objects = list(Cluster.objects.all()) + list(Database.objects.all())
    text = dump_objects(objects, "yaml")
    listed = yaml.safe_load(text)
    assert listed["kind"] == "List"
    rec, redb = listed["items"]
    example = yaml.safe_load((EXAMPLES / "rec.yaml").read_text())["spec"]
    assert {k: rec["spec"][k] for k in example} == example  # the spec given, plus defaults
    assert redb["spec"]["evictionPolicy"] == "volatile-lru" and redb["spec"]["redisEnterpriseCluster"] == {
        "name": "rec"}
    assert "status" in rec and rec["metadata"]["generation"] == 1
    assert [(r.created, r.changed) for r in apply(text)] == [(False, False), (False, False)]
    assert yaml.safe_load(dump_objects(objects, "json")) == listed


def test_all_or_nothing_with_errors_per_document(local_target):
    text = (EXAMPLES / "rec.yaml").read_text() + "---\n" + REDB % ("good", "{memorySize: 1GB}") + "---\n" + \
        REDB % ("bad", "{memorySize: 1MB, shardCount: 0}")
    errors = errors_of_apply(text)
    assert errors == {"documents[2].spec.memorySize": ["must be at least 100MB"],
                      "documents[2].spec.shardCount": ["must be at least 1"]}
    assert not Cluster.objects.exists() and not Database.objects.exists()


def test_update_failure_rolls_back_earlier_documents(local_target):
    apply((EXAMPLES / "rec.yaml").read_text() + "---\n" + (EXAMPLES / "redb.yaml").read_text())
    text = REDB % ("redb", "{memorySize: 1GB, replication: true}") + "---\n" + \
        REDB % ("other", "{memorySize: 100GB}")
    errors = errors_of_apply(text)
    assert list(errors) == ["documents[1].spec.memorySize"]
    assert Database.objects.get(name="redb").spec["memorySize"] == "256MB"
    assert not Database.objects.filter(name="other").exists()


def test_database_may_come_before_its_cluster_in_a_file(local_target):
    text = (EXAMPLES / "redb.yaml").read_text() + "---\n" + (EXAMPLES / "rec.yaml").read_text()
    results = apply(text)
    assert [r.obj.kind for r in results] == ["database", "cluster"]


@pytest.mark.parametrize("text, path, message", [
    ("kind: [", "documents", "not valid YAML at line 1, column 8: expected the node content"),
    ("a: &x [1, 2]\nb: [*x, *x]\n", "documents",
     "not valid YAML at line 2, column 5: aliases (*name) are not supported"),
    ("", "documents", "no documents found"),
    ("- just a list", "documents[0]", "must be a mapping with apiVersion, kind, metadata and spec"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "documents[0].kind",
     "must be one of RedisEnterpriseCluster, RedisEnterpriseDatabase, RedisEnterpriseACL"),
    ("apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseDatabase\nmetadata: {name: x}\n",
     "documents[0].apiVersion",
     "RedisEnterpriseDatabase documents use apiVersion app.redislabs.com/v1alpha1 (got 'app.redislabs.com/v1')"),
    ("apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseCluster\nmetadata: {}\n", "documents[0].metadata.name",
     "is required"),
    ("apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseCluster\nmetadata: {name: x}\nspecs: {}\n",
     "documents[0].specs", "unknown field 'specs'; did you mean 'spec'?"),
])
def test_document_shape_errors(local_target, text, path, message):
    errors = errors_of_apply(text)
    assert errors[path][0].startswith(message)


def test_database_needs_an_unambiguous_cluster(local_target, rec_spec):
    from clusters.services import create_cluster
    from targets.models import Target

    assert errors_of_apply(REDB % ("cache", "{}")) == {"documents[0].spec.redisEnterpriseCluster": [
        "no cluster in namespace default; name one in spec.redisEnterpriseCluster.name"]}
    create_cluster(name="one", spec=rec_spec, actor="t")
    other = Target.objects.create(name="second", kind=Target.LOCAL, settings={})
    create_cluster(name="two", spec=rec_spec, target=other, actor="t")
    assert errors_of_apply(REDB % ("cache", "{}")) == {"documents[0].spec.redisEnterpriseCluster": [
        "namespace default has several clusters (one, two); name one in spec.redisEnterpriseCluster.name"]}
    assert errors_of_apply(REDB % ("cache", "{redisEnterpriseCluster: {name: three}}")) == {
        "documents[0].spec.redisEnterpriseCluster.name": ["no cluster named three"]}
    (result,) = apply(REDB % ("cache", "{redisEnterpriseCluster: {name: two}}"))
    assert result.obj.cluster.name == "two"


def test_cluster_target_annotation_and_immutable_placement(local_target):
    from targets.models import Target

    Target.objects.create(name="second", kind=Target.LOCAL, settings={})
    doc = yaml.safe_load((EXAMPLES / "rec.yaml").read_text())
    doc["metadata"]["annotations"] = {"redis-controlplane.io/target": "second"}
    (result,) = apply(yaml.safe_dump(doc))
    assert result.obj.target.name == "second"
    doc["metadata"]["annotations"] = {"redis-controlplane.io/target": "local"}
    doc["metadata"]["namespace"] = "elsewhere"
    errors = errors_of_apply(yaml.safe_dump(doc))
    assert errors == {
        "documents[0].metadata.namespace": ["cannot change: cluster rec is in namespace default"],
        "documents[0].metadata.annotations.redis-controlplane.io/target": [
            "cannot change: cluster rec is on target second"]}


def test_warnings_name_the_document(local_target):
    doc = yaml.safe_load((EXAMPLES / "rec.yaml").read_text())
    doc["spec"]["license"] = "xyz"
    doc["metadata"]["generateName"] = "rec-"
    (result,) = apply(yaml.safe_dump(doc))
    assert [w.split(":")[0] for w in result.warnings] == ["documents[0].metadata.generateName",
                                                          "documents[0].spec.license"]


def test_duplicate_documents_are_refused(local_target):
    text = (EXAMPLES / "rec.yaml").read_text() + "---\n" + (EXAMPLES / "rec.yaml").read_text()
    assert errors_of_apply(text) == {"documents[1].metadata.name": ["rec is already described by documents[0]"]}
