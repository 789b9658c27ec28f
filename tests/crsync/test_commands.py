"""The CLI-only flow: `manage.py reconcile --wait` takes in kubectl-made REC/REDB without a watcher."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from clusters.models import Cluster
from core.drivers import driver_for
from databases.models import Database
from targets import managed

from .test_sync import REC, kubectl_apply, redb

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile_wait() -> str:
    out = StringIO()
    call_command("reconcile", "--wait", "--timeout", "90", stdout=out)
    return out.getvalue()


def test_reconcile_wait_takes_in_custom_resources_and_their_deletion(crd_env):
    api = driver_for(crd_env.target).api
    kubectl_apply(crd_env, REC)
    kubectl_apply(crd_env, redb())
    output = reconcile_wait()
    assert "target k8s: cluster redis/rec: adopt" in output
    assert Cluster.objects.get(name="rec").state == managed.RUNNING
    assert Database.objects.get(name="mydb").state == managed.DB_ACTIVE
    assert api.get("RedisEnterpriseDatabase", "redis", "mydb")["status"]["state"] == managed.DB_ACTIVE
    assert api.get("RedisEnterpriseCluster", "redis", "rec")["status"]["state"] == managed.RUNNING

    api.delete("RedisEnterpriseDatabase", "redis", "mydb")
    reconcile_wait()
    assert not Database.objects.exists()
    assert api.get("RedisEnterpriseDatabase", "redis", "mydb") is None
    assert api.get("StatefulSet", "redis", "mydb") is None
    api.delete("RedisEnterpriseCluster", "redis", "rec")
    reconcile_wait()
    assert not Cluster.objects.exists()
    assert api.get("RedisEnterpriseCluster", "redis", "rec") is None


def test_reconcile_wait_deletes_a_rec_and_its_redb_deleted_together(crd_env):
    api = driver_for(crd_env.target).api
    kubectl_apply(crd_env, REC)
    kubectl_apply(crd_env, redb())
    reconcile_wait()
    api.delete("RedisEnterpriseCluster", "redis", "rec")  # as `kubectl delete -f rec-and-redb.yaml` does
    api.delete("RedisEnterpriseDatabase", "redis", "mydb")
    reconcile_wait()
    assert not Database.objects.exists() and not Cluster.objects.exists()
    assert api.list("RedisEnterpriseCluster") == [] and api.list("RedisEnterpriseDatabase") == []
    assert api.list("StatefulSet") == []
