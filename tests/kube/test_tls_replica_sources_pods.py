"""replicaSources from a `rediss://` source into a database whose pods run for real: the uri, the source's CA
(`serverCertSecret`) and the follower's client certificate (`clientKeySecret`, the operator's `cert`/`key` keys)
are Kubernetes Secrets of the database's namespace; the source asks for a client certificate (mutual TLS). The
follower links over TLS, takes a replaced CA Secret without being restarted, and the cut-over puts every key into
the pods."""
from __future__ import annotations

import base64

import pytest
import redis
from kubernetes import client as k8s

from databases.services import create_database
from dataplane.certificates import new_ca, new_server_certificate
from tests.servers import tls_redis_server

from .test_lifecycle import make_cluster
from .test_operations import service_client
from .test_running_pods import NAMESPACE, converge

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = 300
CA, NEXT_CA, CLIENTS_CA = new_ca("source CA"), new_ca("source CA, next"), new_ca("source clients CA")
SERVER = new_server_certificate(CA, "source", ["localhost", "127.0.0.1"])
NEXT_SERVER = new_server_certificate(NEXT_CA, "source", ["localhost", "127.0.0.1"])
CLIENT = new_server_certificate(CLIENTS_CA, "copy", ["localhost"])


def put_secret(core: k8s.CoreV1Api, name: str, values: dict[str, str]) -> None:
    """Create or replace Secret `name` in the database's namespace."""
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}}
    try:
        core.replace_namespaced_secret(name, NAMESPACE, body)
    except k8s.ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespaced_secret(NAMESPACE, body)


def test_a_rediss_source_is_followed_and_cut_over_into_pods_with_every_key(
        kube_env, live_kube, kube_client, team, tmp_path):
    from backups import following, services
    from timeline.models import Event

    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == "Running")
    core = k8s.CoreV1Api(kube_client)
    with tls_redis_server(tmp_path, CA.cert_pem, SERVER.cert_pem, SERVER.key_pem,
                          clients_ca_pem=CLIENTS_CA.cert_pem) as tls_source:
        source = tls_source.client
        source.mset({f"old:{i}": i for i in range(KEYS)})
        put_secret(core, "old-redis", {"uri": f"rediss://:s3cret@127.0.0.1:{tls_source.tls_port}"})
        put_secret(core, "old-redis-ca", {"ca.crt": CA.cert_pem})
        put_secret(core, "copy-client", {"cert": CLIENT.cert_pem, "key": CLIENT.key_pem})
        copy = create_database(cluster=cluster, name="new", team=team, actor="test", spec={
            "memorySize": "100MB", "replicaSources": [{
                "replicaSourceType": "SECRET", "replicaSourceName": "old-redis", "serverCertSecret": "old-redis-ca",
                "clientKeySecret": "copy-client"}]}).obj
        converge(copy, lambda d: d.state == "active" and d.status.get("master"))

        def in_sync() -> bool:
            services.follow_replica_sources()
            copy.refresh_from_db()
            return bool(copy.status["replicaSourceStatus"].get("inSync"))

        try:
            live_kube.wait_for("the follower's full sync over TLS", in_sync, 30)
            assert copy.status["replicaSourceStatus"]["keys"] == KEYS
            follower = following.running(copy.pk).client()
            assert follower.info("replication")["master_port"] == tls_source.tls_port  # the link is TLS

            tls_source.serve(NEXT_SERVER.cert_pem, NEXT_SERVER.key_pem)  # the source's next CA
            source.mset({f"old:{i}": i for i in range(KEYS, KEYS + 50)})
            tls_source.end_replica_links(follower)
            put_secret(core, "old-redis-ca", {"ca.crt": NEXT_CA.cert_pem})
            live_kube.wait_for("the follower linked again with the new CA", in_sync, 30)
            assert copy.status["replicaSourceStatus"]["keys"] == KEYS + 50
            assert Event.objects.filter(object_id=copy.pk, reason="ReplicaSourceRelinked").count() == 1

            source.set("last", "1")
            assert services.cut_over(copy, actor="alice").keys == KEYS + 51
        finally:
            following.stop(copy.pk)
        target = service_client(kube_env, copy)
        assert target.mget([f"old:{i}" for i in range(KEYS + 50)]) == [str(i) for i in range(KEYS + 50)]
        assert target.get("last") == "1"
        target.close()
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            source.set("after", "1")  # the source refuses writes: the signal to move
    copy.refresh_from_db()
    assert "replicaSources" not in copy.spec and "replicaSourceStatus" not in copy.status
    assert live_kube.errors == []
