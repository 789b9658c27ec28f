"""Issue 14: the operator's user, role, role binding and ACL files applied with kubectl are taken into the
control plane through the one validator (a refused spec shows Invalid on the custom resource), and those made
through the control plane are written out as custom resources and deleted with their object."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from access.models import AccessObject
from core.drivers import driver_for
from engine.reconcile import reconcile
from tests.kube.kubectl import kubectl

from .test_sync import kubectl_apply, resource

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_kubectl_applied_access_files_are_taken_in_refused_and_deleted(crd_env):
    driver = driver_for(crd_env.target)
    for name in ("reacl", "rerole", "reuser", "rerolebinding"):
        document = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
        document["metadata"]["namespace"] = "redis"
        kubectl_apply(crd_env, document)
    taken = driver.take_in()
    assert "user redis/some-user: adopt" in taken
    assert AccessObject.objects.get(api_kind="RedisEnterpriseACL", namespace="redis").spec == {"acl": "+@read ~*"}
    assert resource(crd_env, "RedisEnterpriseUser", "some-user")["status"]["specStatus"] == "Valid"
    assert driver.take_in() == []  # in step: nothing to do

    kubectl_apply(crd_env, {"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseACL",
                            "metadata": {"name": "read-only", "namespace": "redis"}, "spec": {"acl": "+@read ~* >pw"}})
    driver.take_in()
    status = resource(crd_env, "RedisEnterpriseACL", "read-only")["status"]
    assert status["specStatus"] == "Invalid" and "spec.acl" in status["conditions"][-1]["message"]
    assert AccessObject.objects.get(name="read-only", namespace="redis").spec == {"acl": "+@read ~*"}  # unchanged

    driver.api.delete("RedisEnterpriseRoleBinding", "redis", "db-reader")  # waits on the finalizer
    assert "rolebinding redis/db-reader: request-deletion, release" in driver.take_in()
    assert not AccessObject.objects.filter(api_kind="RedisEnterpriseRoleBinding").exists()
    assert resource(crd_env, "RedisEnterpriseRoleBinding", "db-reader") is None


def test_objects_made_through_the_control_plane_are_written_out_and_deleted_with_them(crd_env, tmp_path):
    from access import services
    from manifests.documents import apply_documents

    from .test_sync import kubectl_cluster

    cluster = kubectl_cluster(crd_env)
    apply_documents(_in_namespace((EXAMPLES / "reacl.yaml").read_text()), actor="test")  # manage.py apply
    user = services.apply_object("RedisEnterpriseUser", name="alice", namespace="redis",
                                 spec={"username": "alice", "email": "alice@example.com"}, actor="test").obj
    reconcile("cluster", cluster.pk)  # what the change asked for (a reconcile of the namespace) writes them out
    written = resource(crd_env, "RedisEnterpriseUser", "alice")
    assert written["spec"] == {"username": "alice", "email": "alice@example.com"}
    assert written["status"]["specStatus"] == "Valid"
    assert resource(crd_env, "RedisEnterpriseACL", "read-only")["spec"] == {"acl": "+@read ~*"}
    assert user.password not in json.dumps(written)

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(crd_env.emulator.kubeconfig())
    listed = kubectl((kubeconfig, tmp_path), "get", "redisenterpriseusers", "-n", "redis", "-o", "name").stdout
    assert listed.split() == ["redisenterpriseuser.app.redislabs.com/alice"]
    assert driver_for(crd_env.target).take_in() == []  # its own writes are no change to take in

    services.delete_object(AccessObject.objects.get(name="alice"), actor="test")
    reconcile("cluster", cluster.pk)
    assert resource(crd_env, "RedisEnterpriseUser", "alice") is None
    assert kubectl((kubeconfig, tmp_path), "get", "redisenterpriseusers", "-n", "redis", "-o",
                   "name").stdout.strip() == ""


def _in_namespace(text: str) -> str:
    document = yaml.safe_load(text)
    document["metadata"]["namespace"] = "redis"
    return yaml.safe_dump(document)
