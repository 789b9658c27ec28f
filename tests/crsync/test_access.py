"""Issue 14: the operator's user, role, role binding and ACL files applied with kubectl are taken into the
control plane through the one validator; a refused spec shows Invalid on the custom resource."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from access.models import AccessObject
from core.drivers import driver_for

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
    assert "RedisEnterpriseUser redis/some-user: created" in taken
    assert AccessObject.objects.get(api_kind="RedisEnterpriseACL", namespace="redis").spec == {"acl": "+@read ~*"}
    assert resource(crd_env, "RedisEnterpriseUser", "some-user")["status"]["specStatus"] == "Valid"
    assert driver.take_in() == []  # in step: nothing to do

    kubectl_apply(crd_env, {"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseACL",
                            "metadata": {"name": "read-only", "namespace": "redis"}, "spec": {"acl": "+@read ~* >pw"}})
    driver.take_in()
    status = resource(crd_env, "RedisEnterpriseACL", "read-only")["status"]
    assert status["specStatus"] == "Invalid" and "spec.acl" in status["message"]
    assert AccessObject.objects.get(name="read-only", namespace="redis").spec == {"acl": "+@read ~*"}  # unchanged

    driver.api.delete("RedisEnterpriseRoleBinding", "redis", "db-reader")
    assert "RedisEnterpriseRoleBinding redis/db-reader: deleted" in driver.take_in()
    assert not AccessObject.objects.filter(api_kind="RedisEnterpriseRoleBinding").exists()
