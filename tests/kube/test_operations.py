"""Day-two operations on a Kubernetes database whose pods run for real (tests/kube/podrunner): a backup to a
real S3 server (moto_server) with credentials from a Kubernetes Secret and to the control plane's mount
folder, a restore that brings every key back, the control plane's samples of the master pod, and the exporter
series the PrometheusRules read.
"""
from __future__ import annotations

import base64
import json
import urllib.request

import boto3
import pytest
import redis
from kubernetes import client as k8s

from core.errors import SpecError
from databases.services import create_database, update_database
from kube.render.inputs import DatabaseInputs
from kube.render.monitoring import expression, series_used
from specs.alerts import ALERT_KINDS
from tests.servers import s3_server

from .test_lifecycle import make_cluster
from .test_running_pods import NAMESPACE, converge, secret_password

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "k8s-backups"
KEYS = 300


@pytest.fixture
def s3_endpoint():
    with s3_server() as url:
        boto3.client("s3", endpoint_url=url, aws_access_key_id="k8s-key", aws_secret_access_key="k8s-secret",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield url


def aws_secret(kube_client, name: str, endpoint: str) -> None:
    """The Secret `backup.s3.awsSecretName` names, with the operator's keys (and an S3-compatible endpoint)."""
    values = {"AWS_ACCESS_KEY_ID": "k8s-key", "AWS_SECRET_ACCESS_KEY": "k8s-secret", "AWS_ENDPOINT_URL": endpoint}
    k8s.CoreV1Api(kube_client).create_namespaced_secret(NAMESPACE, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}})


def service_client(kube_env, database) -> redis.Redis:
    """A client of the database Service (its ClusterIP), as an application reaches it."""
    service = kube_env.store.find("Service", NAMESPACE, database.name)
    return redis.Redis(host=service["spec"]["clusterIP"], port=int(service["spec"]["ports"][0]["port"]),
                       password=secret_password(kube_env, database), socket_timeout=5, decode_responses=True)


def test_backup_to_s3_and_the_mount_then_restore_brings_every_key_back_and_the_master_is_sampled(
        kube_env, live_kube, kube_client, team, s3_endpoint, tmp_path, settings):
    from backups import services
    from metrics import store
    from metrics.sampler import sample_everything

    settings.CONTROLPLANE_BACKUP_MOUNT_ROOTS = [tmp_path]
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == "Running")
    aws_secret(kube_client, "aws-creds", s3_endpoint)
    database = create_database(cluster=cluster, name="cache", team=team, actor="test", spec={
        "memorySize": "100MB", "replication": True,
        "backup": {"interval": 3600, "mount": {"path": str(tmp_path / "mount")},
                   "s3": {"awsSecretName": "aws-creds", "bucketName": BUCKET, "subdir": "k8s"}}}).obj
    converge(database, lambda d: d.state == "active" and d.status.get("master"))
    app = service_client(kube_env, database)
    for i in range(KEYS):
        app.set(f"key:{i}", f"value-{i}")
    app.set("session", "x", ex=3000)
    live_kube.wait_for("the replica to have every key", lambda: app.wait(1, 1000) == 1, 30)

    run = services.backup_now(database, actor="alice")
    assert run.ok, run.error
    manifest = json.loads((tmp_path / "mount" / "rec" / "cache" / run.name / "manifest.json").read_text())
    assert manifest["shards"][0]["keys"] == KEYS + 1
    assert manifest["shards"][0]["source"] == "cache-1 (replica)"  # the master is not forked
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="k8s-key",
                      aws_secret_access_key="k8s-secret", region_name="us-east-1")
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="k8s/rec/cache/")["Contents"]}
    assert stored == {f"k8s/rec/cache/{run.name}/shard-0.rdb", f"k8s/rec/cache/{run.name}/manifest.json"}

    for i in range(0, KEYS, 2):
        app.delete(f"key:{i}")
    app.set("key:1", "changed")
    with pytest.raises(services.ConfirmationRequired):
        services.restore(database, actor="alice")
    # From the bucket: the mount copy is gone.
    (tmp_path / "mount" / "rec" / "cache" / run.name / "manifest.json").unlink()
    result = services.restore(database, actor="alice", confirm=True)
    assert result.keys == KEYS + 1 and "s3://" in result.source
    assert app.mget([f"key:{i}" for i in range(KEYS)]) == [f"value-{i}" for i in range(KEYS)]
    assert 0 < app.ttl("session") <= 3000

    # The control plane samples the master pod: the charts show data.
    assert sample_everything() == {"sampled": 1, "unreachable": 0}
    sample = store.latest(database.pk)
    assert sample.keys == KEYS + 1 and sample.maxmemory == 100 * 1024 * 1024 and sample.replication_lag is not None

    # Every exporter series the PrometheusRule expressions read is one the master pod's sidecar serves.
    master = kube_env.store.find("Pod", NAMESPACE, database.status["master"])
    with urllib.request.urlopen(f"http://{master['status']['podIP']}:9121/metrics", timeout=5) as page:
        served = {line.split("{")[0].split(" ")[0] for line in page.read().decode().splitlines()
                  if line and not line.startswith("#")}
    spec = DatabaseInputs.of(database)
    used = set().union(*(series_used(expression(kind, 1, spec)) for kind in ALERT_KINDS))
    assert used and used <= served, used - served

    # Credentials that are not there: the run fails and says which Secret.
    k8s.CoreV1Api(kube_client).delete_namespaced_secret("aws-creds", NAMESPACE)
    failed = services.backup_now(database, actor="alice")
    assert not failed.ok and f"Secret {NAMESPACE}/aws-creds" in failed.error
    assert live_kube.errors == []


def test_backups_need_the_data_plane_on_a_kubernetes_target(kube_env, team):
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    with pytest.raises(SpecError) as refused:
        create_database(cluster=cluster, name="cache", team=team, actor="test",
                        spec={"memorySize": "100MB", "backup": {"s3": {"awsSecretName": "aws", "bucketName": "bkt"}}})
    assert "need the data plane" in " ".join(refused.value.errors.get("spec.backup", [])), refused.value.errors


def test_a_sharded_database_is_backed_up_from_its_replicas_and_restored_to_the_shards_owning_each_key(
        kube_env, team, tmp_path, settings):
    """Pods mapped to real cluster-enabled redis-servers (tests/kube/test_sharding.py): two shards, each
    copied from its replica; the restore routes every key to the master that owns its slot."""
    from contextlib import ExitStack

    from redis.cluster import ClusterNode, RedisCluster

    from backups import services

    from .test_lifecycle import make_database, running_cluster
    from .test_sharding import run_pods_until_active

    settings.CONTROLPLANE_BACKUP_MOUNT_ROOTS = [tmp_path]
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, shardCount=2, replication=True, memorySize="300MB")
    with ExitStack() as stack:
        ports = run_pods_until_active(stack, kube_env, database)
        # Declared once the control plane reaches the pods (the data plane), as the validator requires.
        update_database(database, spec={**database.spec, "backup": {"mount": {"path": str(tmp_path)}}}, actor="test")
        database.refresh_from_db()
        for port in ports:  # a copy starts at once (Redis waits 5 s for more replicas by default)
            redis.Redis(port=port, password=database.password).config_set("repl-diskless-sync-delay", 0)
        app = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ports[0])], password=database.password,
                           decode_responses=True)
        for i in range(400):
            app.set(f"key:{i}", i)
        for port in ports[:2]:
            assert redis.Redis(port=port, password=database.password).wait(1, 5000) == 1

        run = services.backup_now(database, actor="alice")
        assert run.ok, run.error
        manifest = json.loads((tmp_path / "rec" / "cache" / run.name / "manifest.json").read_text())
        assert [s["source"] for s in manifest["shards"]] == ["cache-shard-0-1 (replica)", "cache-shard-1-1 (replica)"]
        assert sum(s["keys"] for s in manifest["shards"]) == 400
        assert [s["slots"] for s in manifest["shards"]] == [[[0, 8191]], [[8192, 16383]]]

        for i in range(0, 400, 3):
            app.delete(f"key:{i}")
        result = services.restore(database, actor="alice", confirm=True)
        assert result.keys == 400
        assert [app.get(f"key:{i}") for i in range(400)] == [str(i) for i in range(400)]
        app.close()


def test_replica_sources_follow_a_database_in_pods_and_the_cut_over_moves_every_key(kube_env, live_kube, team):
    """replicaSources on Kubernetes: the follower replicates from the source's master pod (the driver's data
    address, as backups reach pods), then the cut-over fences the source and copies every key into the pods of
    the new database."""
    from backups import following, services

    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == "Running")
    source = create_database(cluster=cluster, name="old", team=team, actor="test", spec={"memorySize": "100MB"}).obj
    copy = create_database(cluster=cluster, name="new", team=team, actor="test", spec={
        "memorySize": "100MB", "replicaSources": [{"replicaSourceType": "REDB", "replicaSourceName": "old"}]}).obj
    for database in (source, copy):
        converge(database, lambda d: d.state == "active" and d.status.get("master"))
    writes, target = service_client(kube_env, source), service_client(kube_env, copy)
    writes.mset({f"old:{i}": i for i in range(KEYS)})
    try:
        def in_sync() -> bool:
            services.follow_replica_sources()
            copy.refresh_from_db()
            return bool(copy.status["replicaSourceStatus"].get("inSync"))

        live_kube.wait_for("the follower's full sync from the source pod", in_sync, 30)
        assert copy.status["replicaSourceStatus"]["keys"] >= KEYS and target.dbsize() == 0
        writes.set("last", "1")
        assert services.cut_over(copy, actor="alice").keys == KEYS + 1
    finally:
        following.stop(copy.pk)
    assert target.mget([f"old:{i}" for i in range(KEYS)]) == [str(i) for i in range(KEYS)]
    assert target.get("last") == "1"
    with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
        writes.set("after", "1")  # the source refuses writes: the signal to move
    copy.refresh_from_db()
    assert "replicaSources" not in copy.spec and "replicaSourceStatus" not in copy.status
    assert live_kube.errors == []
