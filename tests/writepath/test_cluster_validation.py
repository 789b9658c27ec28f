"""Every REC rule of the one validator, with the message a user sees."""
from __future__ import annotations

import pytest

from clusters.models import Cluster
from clusters.services import create_cluster, update_cluster, upgrade_cluster

from .conftest import errors_of

pytestmark = pytest.mark.django_db


def create(spec, **kwargs):
    kwargs.setdefault("name", "rec")
    return create_cluster(spec=spec, actor="test", **kwargs)


def test_operator_example_is_valid_and_gets_defaults(local_target, rec_spec):
    result = create(rec_spec)
    assert result.created and result.warnings == []
    stored = result.obj.spec
    assert stored["nodes"] == 3
    assert stored["redisEnterpriseImageSpec"] == {"versionTag": "7.2"}  # the target's newest, pinned
    assert stored["persistentSpec"] == rec_spec["persistentSpec"]
    assert result.obj.namespace == "default" and result.obj.target == local_target


@pytest.mark.parametrize("name, message", [
    ("Rec", "DNS-1123 label"),
    ("rec_1", "DNS-1123 label"),
    ("-rec", "DNS-1123 label"),
    ("r" * 64, "at most 63 characters"),
    ("r" * 53, "at most 52 characters (it has 53): Kubernetes derives longer names"),
    ("", "name is required"),
])
def test_name_must_be_dns_label(local_target, rec_spec, name, message):
    errors = errors_of(create, rec_spec, name=name)
    assert message in errors["name"][0]
    assert not Cluster.objects.exists()


def test_namespace_must_be_dns_label(local_target, rec_spec):
    errors = errors_of(create, rec_spec, namespace="Team_A")
    assert "DNS-1123 label" in errors["namespace"][0]


def test_cluster_names_are_unique(cluster, rec_spec):
    errors = errors_of(create, rec_spec, namespace="other")
    assert errors["name"] == ["a cluster named rec already exists"]


def test_one_cluster_per_namespace_per_target(cluster, rec_spec):
    errors = errors_of(create, rec_spec, name="rec2")
    assert errors["namespace"] == ["namespace default on target local already has cluster rec; "
                                   "one cluster per namespace per target"]
    assert create(rec_spec, name="rec2", namespace="team-b").created


def test_unknown_target_is_a_field_error(local_target, rec_spec):
    errors = errors_of(create, rec_spec, target="nowhere")
    assert errors["target"][0].startswith("no target named nowhere; known targets: local")


@pytest.mark.parametrize("nodes, message", [
    (2, "must be odd so a majority of quorum members exists (got 2)"),
    (4, "must be odd so a majority of quorum members exists (got 4)"),
    (0, "must be at least 1"),
    ("3", "must be a whole number"),
    (True, "must be a whole number"),
])
def test_nodes_odd_and_positive_on_local(local_target, rec_spec, nodes, message):
    rec_spec["nodes"] = nodes
    assert errors_of(create, rec_spec)["spec.nodes"] == [message]


def test_local_target_accepts_one_node(local_target, rec_spec):
    rec_spec["nodes"] = 1
    assert create(rec_spec).obj.spec["nodes"] == 1


def test_nodes_at_least_three_on_kubernetes(db, versions, rec_spec):
    from targets.models import Target

    pytest.importorskip("kube.driver")
    kube = Target.objects.create(name="prod", kind=Target.KUBERNETES, settings={})
    rec_spec["nodes"] = 1
    assert errors_of(create, rec_spec, target=kube)["spec.nodes"] == ["must be at least 3 on a kubernetes target"]
    rec_spec["nodes"] = 3
    rec_spec["persistentSpec"]["enabled"] = False
    errors = errors_of(create, rec_spec, target="prod")
    assert errors["spec.persistentSpec.enabled"] == ["persistence is mandatory on a kubernetes target"]


def test_nodes_cannot_decrease(cluster, rec_spec):
    rec_spec["nodes"] = 5
    update_cluster(cluster, spec=rec_spec, actor="test")
    rec_spec["nodes"] = 3
    assert errors_of(update_cluster, cluster, spec=rec_spec, actor="test")["spec.nodes"] == [
        "cannot decrease from 5 to 3"]
    cluster.refresh_from_db()
    assert cluster.spec["nodes"] == 5 and cluster.generation == 2


def test_storage_class_is_immutable(cluster, rec_spec):
    rec_spec["persistentSpec"]["storageClassName"] = "fast"
    errors = errors_of(update_cluster, cluster, spec=rec_spec, actor="test")
    assert errors["spec.persistentSpec.storageClassName"] == ["cannot change once set (it is standard)"]


def test_volume_cannot_shrink_but_can_grow(cluster, rec_spec):
    rec_spec["persistentSpec"]["volumeSize"] = "10Gi"
    errors = errors_of(update_cluster, cluster, spec=rec_spec, actor="test")
    assert errors["spec.persistentSpec.volumeSize"] == ["volumes cannot shrink (from 20Gi to 10Gi)"]
    rec_spec["persistentSpec"]["volumeSize"] = "30Gi"
    assert update_cluster(cluster, spec=rec_spec, actor="test").changed


def test_name_is_immutable(cluster, rec_spec):
    errors = errors_of(update_cluster, cluster, spec=rec_spec, actor="test", name="rec-renamed")
    assert errors["name"] == ["the name of a cluster cannot change (it is rec)"]


def test_username_is_immutable(local_target, rec_spec):
    rec_spec["username"] = "ops@example.com"
    cluster = create(rec_spec).obj
    assert cluster.admin_username == "ops@example.com"
    rec_spec["username"] = "other@example.com"
    errors = errors_of(update_cluster, cluster, spec=rec_spec, actor="test")
    assert errors["spec.username"] == ["cannot change once the cluster exists (it is ops@example.com)"]


def test_unknown_field_is_an_error_with_a_suggestion(local_target, rec_spec):
    rec_spec["node"] = 3
    rec_spec["persistentSpec"]["volumSize"] = "1Gi"
    rec_spec["colour"] = "blue"
    errors = errors_of(create, rec_spec)
    assert errors["spec.node"] == ["unknown field 'node'; did you mean 'nodes'?"]
    assert errors["spec.persistentSpec.volumSize"] == ["unknown field 'volumSize'; did you mean 'volumeSize'?"]
    assert errors["spec.colour"] == ["unknown field 'colour'"]


def test_operator_field_without_use_is_accepted_with_warning_and_event(local_target, rec_spec):
    from timeline.models import Event

    rec_spec["license"] = "----- LICENSE -----"
    rec_spec["bootstrapperImageSpec"] = {"repository": "redislabs/operator"}
    result = create(rec_spec)
    assert result.warnings == [
        "spec.license: accepted but not used; it is a Redis Enterprise operator field this control plane has "
        "no use for",
        "spec.bootstrapperImageSpec: accepted but not used; it is a Redis Enterprise operator field this "
        "control plane has no use for",
    ]
    event = Event.objects.get(object_kind="cluster", object_id=result.obj.pk, reason="UnusedFields")
    assert event.type == Event.WARNING and "spec.license" in event.message


@pytest.mark.parametrize("path, value, field, message", [
    (("persistentSpec", "volumeSize"), "20 apples", "spec.persistentSpec.volumeSize",
     "'20 apples' is not a memory size; use units like 100MB, 1GB, 512Mi or 2Gi"),
    (("persistentSpec", "enabled"), "yes", "spec.persistentSpec.enabled", "must be true or false"),
    (("redisEnterpriseNodeResources", "limits", "memory"), "lots", "spec.redisEnterpriseNodeResources.limits.memory",
     "'lots' is not a memory size; use units like 100MB, 1GB, 512Mi or 2Gi"),
    (("redisEnterpriseNodeResources", "limits", "cpu"), "two", "spec.redisEnterpriseNodeResources.limits.cpu",
     "'two' is not a CPU quantity; use e.g. 2, 0.5 or 500m"),
    (("redisEnterpriseNodeResources", "requests", "memory"), "8Gi",
     "spec.redisEnterpriseNodeResources.requests.memory", "must not be more than limits.memory"),
    (("uiServiceType",), "Magic", "spec.uiServiceType", "'Magic' is not one of: ClusterIP, NodePort, LoadBalancer"),
    (("nodeSelector",), ["a"], "spec.nodeSelector", "must be an object (a mapping of fields)"),
    (("extraLabels",), {"team": 5}, "spec.extraLabels.team", "must be a string"),
    (("podTolerations",), {"key": "x"}, "spec.podTolerations", "must be a list"),
    (("clusterRecovery",), "true", "spec.clusterRecovery", "must be true or false"),
    (("ingressOrRouteSpec",), {"method": "nginx"}, "spec.ingressOrRouteSpec.method",
     "'nginx' is not one of: ingress, openShiftRoute, istio"),
])
def test_field_types(local_target, rec_spec, path, value, field, message):
    target = rec_spec
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert errors_of(create, rec_spec)[field] == [message]


def test_spec_must_be_a_mapping(local_target):
    assert errors_of(create, ["nodes", 3])["spec"] == ["must be an object (a mapping of fields)"]


def test_version_must_be_offered_by_the_target(local_target, rec_spec):
    rec_spec["redisEnterpriseImageSpec"] = {"versionTag": "6.0"}
    errors = errors_of(create, rec_spec)
    assert errors["spec.redisEnterpriseImageSpec.versionTag"] == [
        "version 6.0 is not available on target local; available: 7.0, 7.2"]


def test_upgrade_and_no_downgrade(local_target, rec_spec):
    rec_spec["redisEnterpriseImageSpec"] = {"versionTag": "7.0"}
    cluster = create(rec_spec).obj
    result = upgrade_cluster(cluster, version="7.2", actor="test")
    assert result.changed and cluster.spec["redisEnterpriseImageSpec"]["versionTag"] == "7.2"
    assert cluster.generation == 2
    assert errors_of(upgrade_cluster, cluster, version="7.0", actor="test")["version"] == [
        "downgrading from 7.2 to 7.0 is not supported; Redis versions only go up"]
    assert errors_of(upgrade_cluster, cluster, version="9.9", actor="test")["version"] == [
        "version 9.9 is not available on target local; available: 7.0, 7.2"]


def test_full_replace_without_version_keeps_the_pinned_version(local_target, rec_spec, settings, versions):
    cluster = create(rec_spec).obj
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {**settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS,
                                                  "7.4": settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS["7.2"]}
    result = update_cluster(cluster, spec=rec_spec, actor="test")
    assert not result.changed and cluster.spec["redisEnterpriseImageSpec"]["versionTag"] == "7.2"


def test_capacity_cannot_drop_below_what_databases_use(cluster, rec_spec):
    from databases.services import create_database

    create_database(cluster=cluster, name="big", spec={"memorySize": "3GB", "replication": True}, team=None,
                    actor="test")
    rec_spec["redisEnterpriseNodeResources"]["limits"]["memory"] = "1Gi"
    rec_spec["redisEnterpriseNodeResources"]["requests"]["memory"] = "1Gi"
    errors = errors_of(update_cluster, cluster, spec=rec_spec, actor="test")
    assert errors["spec.redisEnterpriseNodeResources"] == [
        "capacity would be 3GB but the databases of cluster rec already use 6GB"]


def test_every_problem_is_reported_at_once(local_target, rec_spec):
    rec_spec["nodes"] = 2
    rec_spec["uiServiceType"] = "x"
    errors = errors_of(create, rec_spec, name="BAD")
    assert set(errors) == {"name", "spec.nodes", "spec.uiServiceType"}


def test_image_fields_are_checked(db, versions, rec_spec):
    from targets.models import Target

    kube = Target.objects.create(name="prod", kind=Target.KUBERNETES, settings={})
    rec_spec["redisEnterpriseImageSpec"] = {"repository": "Registry/Redis:7", "digestHash": "sha256:12",
                                            "imagePullPolicy": "Sometimes"}
    rec_spec["redisEnterpriseServicesRiggerImageSpec"] = {"versionTag": "1.30"}
    rec_spec["pullSecrets"] = [{"name": "Bad_Name"}, "regcred"]
    errors = errors_of(create, rec_spec, target=kube)
    assert errors["spec.redisEnterpriseImageSpec.repository"][0].startswith("must be an image repository")
    assert errors["spec.redisEnterpriseImageSpec.digestHash"] == [
        "must be an image digest: sha256: and 64 lowercase hex digits",
        "needs versionTag: a digest names one image, the quorum members' Redis version"]
    assert "spec.redisEnterpriseImageSpec.imagePullPolicy" in errors
    assert errors["spec.redisEnterpriseServicesRiggerImageSpec.repository"][0].startswith("is required")
    assert "spec.pullSecrets[0].name" in errors and "spec.pullSecrets[1]" in errors
    assert not Cluster.objects.exists()
    rec_spec["redisEnterpriseImageSpec"] = {"versionTag": "7.2", "repository": "registry.example.com/redis",
                                            "digestHash": "sha256:" + "0" * 64, "imagePullPolicy": "Always"}
    rec_spec["redisEnterpriseServicesRiggerImageSpec"] = {"repository": "registry.example.com/kubectl"}
    rec_spec["pullSecrets"] = [{"name": "regcred"}]
    result = create(rec_spec, target=kube)
    assert result.created and result.warnings == []
    assert result.obj.typed_spec.pull_secrets == ("regcred",)
