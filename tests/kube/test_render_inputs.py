"""Rendering is a pure function of typed specs and resolved inputs: no rows, no target, no database access
(pytest-django refuses any query in a test not marked for the database)."""
from kube.render.cluster import cluster_manifests
from kube.render.database import database_manifests
from kube.render.inputs import ClusterInputs, DatabaseInputs
from specs.cluster import ClusterSpec
from specs.database import DatabaseSpec


def inputs() -> DatabaseInputs:
    cluster = ClusterInputs(name="rec", namespace="prod", typed_spec=ClusterSpec.from_spec({"nodes": 3}),
                            version="7.2", admin_username="admin", admin_password="cluster-secret")
    spec = DatabaseSpec.from_spec({"memorySize": "200MB", "replication": True, "databasePort": 12000}, "orders")
    return DatabaseInputs(name="orders", namespace="prod", typed_spec=spec, version="7.2", image="redis:7.2",
                          password="database-secret", cluster=cluster)


def test_a_database_renders_from_its_typed_spec_alone():
    database = inputs()
    manifests = cluster_manifests(database.cluster) + database_manifests(database)
    statefulset = next(m for m in manifests if m["kind"] == "StatefulSet" and m["metadata"]["name"] == "orders")
    assert statefulset["metadata"]["namespace"] == "prod"
    assert statefulset["spec"]["replicas"] == 2  # a master and its replica
    containers = statefulset["spec"]["template"]["spec"]["containers"]
    assert all(c["image"].endswith(":7.2") for c in containers if c["name"] == "redis")  # not the sidecars
    service = next(m for m in manifests if m["kind"] == "Service" and m["metadata"]["name"] == "orders")
    assert [p["port"] for p in service["spec"]["ports"]] == [12000]
    redacted = str(cluster_manifests(database.cluster, reveal_secrets=False)
                   + database_manifests(database, reveal_secrets=False))
    assert "database-secret" not in redacted and "cluster-secret" not in redacted
