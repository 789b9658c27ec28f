"""A REC's `certificates.proxyCertificateSecretName` on a Kubernetes target: the database's Secret `<db>-tls`
carries the user's certificate, key and CA from the operator-format Secret (certificate/key) or a
kubernetes.io/tls one (tls.crt/tls.key/ca.crt); a missing Secret is the database's Error, taken up once it
exists; running pods serve it to `redis-cli --tls --cacert` with the user's CA. The real client over HTTP
against the emulator (the last test with the pod runner)."""
from __future__ import annotations

import base64

import pytest
from kubernetes import client as k8s

from core.errors import TargetError
from dataplane.certificates import new_ca, new_server_certificate
from targets import managed
from timeline.models import Event

from .test_lifecycle import make_cluster, make_database, run, running_cluster
from .test_running_pods import converge

pytestmark = pytest.mark.django_db(transaction=True)


def tls_secret(kube_env, name: str) -> dict[str, str]:
    """The Secret's files; the server pair (named by its serial, docs/tls.md) also as `tls.crt` and `tls.key`."""
    secret = kube_env.store.find("Secret", "redis", name)
    files = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    stem = next(k for k in files if k.startswith("server-") and k.endswith(".crt"))[:-len(".crt")]
    return {**files, "tls.crt": files[f"{stem}.crt"], "tls.key": files[f"{stem}.key"]}


def test_the_databases_tls_secret_holds_the_users_certificate(kube_env, kube_client, team):
    ca = new_ca("acme CA")
    first = new_server_certificate(ca, "cache", ["cache.redis.svc"])
    cluster = running_cluster(kube_env, certificates={"proxyCertificateSecretName": "acme-proxy"})
    database = make_database(cluster, team, tlsMode="enabled", replication=False)
    with pytest.raises(TargetError, match="proxyCertificateSecretName: secret acme-proxy does not exist"):
        run(database)
    database.refresh_from_db()
    assert database.status["state"] == "Error"
    assert kube_env.store.find("Secret", "redis", "cache-tls") is None

    core = k8s.CoreV1Api(kube_client)  # the operator's format: kubectl create secret generic --from-file=...
    core.create_namespaced_secret("redis", k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="acme-proxy"), string_data={
        "certificate": first.cert_pem + ca.cert_pem, "key": first.key_pem, "name": "proxy"}))
    run(database)
    kube_env.settle()
    run(database)
    assert database.state == "active", database.status
    served = tls_secret(kube_env, "cache-tls")
    assert served["tls.crt"].startswith(first.cert_pem) and served["tls.key"] == first.key_pem
    assert served["ca.crt"].strip() == ca.cert_pem.strip()

    renewed = new_server_certificate(ca, "cache", ["cache.redis.svc"])  # a kubernetes.io/tls Secret, CA apart
    core.replace_namespaced_secret("acme-proxy", "redis", k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name="acme-proxy"), type="kubernetes.io/tls",
        string_data={"tls.crt": renewed.cert_pem, "tls.key": renewed.key_pem, "ca.crt": ca.cert_pem}))
    run(database)
    assert tls_secret(kube_env, "cache-tls")["tls.crt"] == renewed.cert_pem
    messages = " ".join(Event.objects.values_list("message", flat=True))
    assert "acme-proxy does not exist" in messages and "PRIVATE KEY" not in messages


def test_rendering_reads_no_secret_and_says_where_the_certificate_comes_from(tmp_path):
    """`manage.py render` (and the API's manifests) touch no Kubernetes API: Secret `<db>-tls` names the source."""
    import yaml
    from django.core.management import call_command

    out = tmp_path / "out.yaml"
    (tmp_path / "in.yaml").write_text("""apiVersion: app.redislabs.com/v1
kind: RedisEnterpriseCluster
metadata: {name: rec, namespace: redis}
spec: {nodes: 3, certificates: {proxyCertificateSecretName: acme-proxy}}
---
apiVersion: app.redislabs.com/v1alpha1
kind: RedisEnterpriseDatabase
metadata: {name: cache, namespace: redis}
spec: {memorySize: 100MB, tlsMode: enabled}
""")
    with open(out, "w") as handle:
        call_command("render", "-f", str(tmp_path / "in.yaml"), "--show-secrets", stdout=handle)
    secret = next(m for m in yaml.safe_load_all(out.read_text()) if m["metadata"]["name"] == "cache-tls")
    assert {k: v for k, v in secret["stringData"].items() if k != "tls.conf"} == {
        key: "<from secret acme-proxy>" for key in ("ca.crt", "server.crt", "server.key")}


def test_pods_serve_the_users_certificate_to_redis_cli_trusting_the_users_ca(kube_env, live_kube, kube_client, team):
    ca = new_ca("acme CA")
    names = ["cache", "cache.redis", "cache.redis.svc", "cache.redis.svc.cluster.local", "localhost", "127.0.0.1"]
    server = new_server_certificate(ca, "cache", names)
    cluster = make_cluster(kube_env, namespace="redis", certificates={"proxyCertificateSecretName": "acme-proxy"})
    converge(cluster, lambda c: c.state == managed.RUNNING)
    k8s.CoreV1Api(kube_client).create_namespaced_secret("redis", k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name="acme-proxy"), type="kubernetes.io/tls",
        string_data={"tls.crt": server.cert_pem, "tls.key": server.key_pem, "ca.crt": ca.cert_pem}))
    database = make_database(cluster, team, replication=False, tlsMode="enabled")
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    port = database.spec["databasePort"]

    def cli(*args: str) -> str:
        return live_kube.exec("redis", "cache-0", ["sh", "-c", f"redis-cli -h cache -p {port} --no-auth-warning "
                                                   f"{' '.join(args)} ping"]).stdout.strip()
    assert live_kube.wait_for("the Service to answer over TLS with the user's certificate",
                              lambda: cli("--tls", "--cacert", "/etc/redis-tls/ca.crt") == "PONG", 30)
    mounted = live_kube.exec("redis", "cache-0", ["sh", "-c", "cat /etc/redis-tls/ca.crt /etc/redis-tls/server-*.crt"])
    assert mounted.stdout.strip() == (ca.cert_pem + server.cert_pem).strip()
    assert "PONG" not in cli("--tls")  # not trusting the user's CA: refused
