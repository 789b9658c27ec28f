"""Issue 14 on Kubernetes without pods: what mutual TLS and `defaultUser: false` render, and what the validator
refuses on a kubernetes target (the pods themselves: tests/kube/test_secure_pods.py)."""
from __future__ import annotations

import json

import kubernetes_validate
import pytest
import yaml

from core.errors import SpecError
from databases.services import create_database, update_database
from dataplane.certificates import new_ca
from kube.render.database import render_database
from targets.certificates import store_certificate_secret

from .test_lifecycle import make_cluster

pytestmark = pytest.mark.django_db

APP_CA = new_ca("app team CA")


def by_name(manifests: list[dict]) -> dict[str, dict]:
    return {f"{m['kind']}/{m['metadata']['name']}": m for m in manifests}


def container(statefulset: dict, name: str) -> dict:
    return next(c for c in statefulset["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def test_mutual_tls_renders_the_client_bundle_and_tls_auth_clients(kube_env, team):
    store_certificate_secret("app-clients", APP_CA.cert_pem)
    cluster = make_cluster(kube_env)
    database = create_database(cluster=cluster, name="mtls", team=team, actor="t", spec={
        "memorySize": "100MB", "tlsMode": "enabled", "clientAuthenticationCertificates": ["app-clients"]}).obj
    manifests = by_name(render_database(database))
    for manifest in manifests.values():
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    files = manifests["Secret/mtls-tls"]["stringData"]
    bundle = next(name for name in files if name.startswith("client-ca-"))
    assert APP_CA.cert_pem.strip() in files[bundle] and files["ca.crt"].strip() in files[bundle]  # and the cluster CA
    assert f"tls-ca-cert-file /etc/redis-tls/{bundle}\n" in files["tls.conf"]
    assert "tls-auth-clients yes" in manifests["ConfigMap/mtls-config"]["data"]["redis.conf"]
    # A replaced certificate secret: a new bundle name (Redis is made to load it), the same pods (no roll).
    template = manifests["StatefulSet/mtls"]["spec"]["template"]["metadata"]["annotations"]
    store_certificate_secret("app-clients", new_ca("renewed app CA").cert_pem)
    again = by_name(render_database(database))
    assert bundle not in again["Secret/mtls-tls"]["stringData"]
    assert again["StatefulSet/mtls"]["spec"]["template"]["metadata"]["annotations"] == template


def test_default_user_off_renders_the_internal_login_by_reference_only(kube_env, team):
    cluster = make_cluster(kube_env)
    database = create_database(cluster=cluster, name="private", team=team, actor="t", spec={
        "memorySize": "100MB", "replication": True, "defaultUser": False}).obj
    manifests = by_name(render_database(database))
    for manifest in manifests.values():
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    internal = manifests["Secret/private-internal"]["stringData"]
    assert internal["username"] == "cp-admin" and internal["password"]
    assert "password" not in manifests["Secret/redb-private"]["stringData"]  # no default password, as the operator
    statefulset = manifests["StatefulSet/private"]
    reference = {"secretKeyRef": {"name": "private-internal", "key": "password"}}
    for name in ("redis", "rigger", "metrics"):
        env = {e["name"]: e for e in container(statefulset, name)["env"]}
        assert env["REDIS_USER"]["value"] == "cp-admin" and env["REDIS_PASSWORD"]["valueFrom"] == reference, name
    others = [m for key, m in manifests.items() if key != "Secret/private-internal"]
    assert internal["password"] not in json.dumps(others)
    assert internal["password"] not in yaml.safe_dump(render_database(database, reveal_secrets=False))


def test_turning_the_default_user_on_changes_the_database_secret_and_no_pod_template(kube_env, team):
    """The pods log in as their own user either way; only the database Secret's `password` (what the start script
    turns the default user on with, and a person's redis-cli in the pod reads) comes and goes."""
    cluster = make_cluster(kube_env)
    database = create_database(cluster=cluster, name="private", team=team, actor="t", spec={
        "memorySize": "100MB", "replication": True, "defaultUser": False}).obj
    off = by_name(render_database(database))
    database.spec = {**database.spec, "defaultUser": True}
    on = by_name(render_database(database))
    assert on["StatefulSet/private"] == off["StatefulSet/private"]
    assert on["ConfigMap/private-config"] == off["ConfigMap/private-config"]
    assert on["Secret/private-internal"] == off["Secret/private-internal"]
    assert on["Secret/redb-private"]["stringData"]["password"] == database.password
    env = {e["name"]: e for e in container(on["StatefulSet/private"], "redis")["env"]}
    assert env["REDISCLI_AUTH"]["valueFrom"] == {"secretKeyRef": {"name": "redb-private", "key": "password",
                                                                  "optional": True}}
    assert "REDISCLI_AUTH" not in {e["name"] for e in container(on["StatefulSet/private"], "metrics")["env"]}


def test_kubernetes_refuses_a_missing_client_certificate_and_a_default_user_change_without_a_data_plane(kube_env,
                                                                                                       team):
    cluster = make_cluster(kube_env)
    with pytest.raises(SpecError) as refused:
        create_database(cluster=cluster, name="mtls", team=team, actor="t", spec={
            "memorySize": "100MB", "tlsMode": "enabled", "clientAuthenticationCertificates": ["nobody"]})
    assert "no certificate secret named nobody" in str(refused.value.errors["spec.clientAuthenticationCertificates"])
    database = create_database(cluster=cluster, name="open", team=team, actor="t",
                               spec={"memorySize": "100MB"}).obj
    with pytest.raises(SpecError) as refused:
        update_database(database, spec={**database.spec, "defaultUser": False}, actor="t")
    assert "need the data plane" in str(refused.value.errors["spec.defaultUser"])
    database.refresh_from_db()
    assert database.typed_spec.default_user and database.generation == 1
