"""`tlsMode: replica_ssl` on Kubernetes without pods: the cluster's TLS sentinel group rendered while such a
database exists, the database pods' TLS replication, and what the validator refuses (pods: test_replica_ssl_pods.py)."""
from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from clusters.services import upgrade_cluster
from core.errors import SpecError
from databases.services import create_database, delete_database, update_database
from kube.render.database import render_database
from kube.render.tls_sentinels import render_cluster
from targets import managed

from .test_lifecycle import make_cluster, run, running_cluster
from .test_render_secure import by_name, container

pytestmark = pytest.mark.django_db


def test_a_replica_ssl_database_brings_the_tls_sentinel_group_and_replicates_over_tls(kube_env, team):
    cluster = make_cluster(kube_env)
    plain = by_name(render_cluster(cluster))
    assert "StatefulSet/rec-tls" not in plain
    database = create_database(cluster=cluster, name="secure", team=team, actor="t", spec={
        "memorySize": "100MB", "replication": True, "tlsMode": "replica_ssl"}).obj
    manifests = by_name(render_cluster(cluster))
    for manifest in manifests.values():
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    # The plain group is the same as before (no roll of the quorum); the TLS group comes on top, quota included.
    assert manifests["StatefulSet/rec"] == plain["StatefulSet/rec"]
    group = manifests["StatefulSet/rec-tls"]
    assert group["spec"]["serviceName"] == "rec-tls-headless" and group["spec"]["replicas"] == 3
    assert group["spec"]["selector"]["matchLabels"] != plain["StatefulSet/rec"]["spec"]["selector"]["matchLabels"]
    sentinel = container(group, "sentinel")
    assert sentinel["command"] == ["sh", "/etc/sentinel-tls/start.sh"]
    start = manifests["ConfigMap/rec-sentinel-tls"]["data"]["start.sh"]
    assert "tls-replication yes" in start and "sentinel announce-port" in start
    secret = manifests["Secret/rec-sentinel-tls"]["stringData"]
    assert secret["tls.crt"].startswith("-----BEGIN CERTIFICATE") and "PRIVATE KEY" in secret["tls.key"]
    assert "PRIVATE KEY" not in yaml.safe_dump(render_cluster(cluster, reveal_secrets=False))
    quota = manifests["ResourceQuota/rec-capacity"]["spec"]["hard"]["requests.memory"]
    assert quota != plain["ResourceQuota/rec-capacity"]["spec"]["hard"]["requests.memory"]
    assert [p["port"] for p in manifests["Service/rec-tls"]["spec"]["ports"]] == [26379]  # questions stay plain

    pods = by_name(render_database(database))
    for manifest in pods.values():
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    assert "tls-replication yes" in pods["ConfigMap/secure-config"]["data"]["redis.conf"]
    env = {e["name"]: e.get("value") for e in container(pods["StatefulSet/secure"], "redis")["env"]}
    assert env["REPLICATION_PORT"] == "6380" and env["SENTINEL_HOST"] == "rec-tls.redis.svc.cluster.local"
    rigger_env = {e["name"]: e.get("value") for e in container(pods["StatefulSet/secure"], "rigger")["env"]}
    assert rigger_env["SENTINEL_HOST"] == "rec-tls.redis.svc.cluster.local"


@pytest.mark.parametrize("spec, message", [
    ({"replication": False}, "needs replication: true and no Redis Cluster"),
    ({"replication": True, "shardCount": 2, "memorySize": "200MB"}, "needs replication: true and no Redis Cluster"),
])
def test_replica_ssl_without_a_replica_to_encrypt_is_refused(kube_env, team, spec, message):
    cluster = make_cluster(kube_env)
    with pytest.raises(SpecError) as refused:
        create_database(cluster=cluster, name="secure", team=team, actor="t",
                        spec={"memorySize": "100MB", "tlsMode": "replica_ssl", **spec})
    assert message in " ".join(refused.value.errors["spec.tlsMode"])


@pytest.mark.parametrize("before, after", [("enabled", "replica_ssl"), ("replica_ssl", "enabled"),
                                           ("replica_ssl", "disabled")])
def test_tls_mode_to_or_from_replica_ssl_is_refused_on_a_live_database(kube_env, team, before, after):
    cluster = make_cluster(kube_env)
    database = create_database(cluster=cluster, name="secure", team=team, actor="t", spec={
        "memorySize": "100MB", "replication": True, "tlsMode": before}).obj
    with pytest.raises(SpecError) as refused:
        update_database(database, spec=dict(database.spec, tlsMode=after), actor="t")
    assert f"cannot change from {before} to {after}" in " ".join(refused.value.errors["spec.tlsMode"])
    database.refresh_from_db()
    assert database.spec["tlsMode"] == before


def test_the_tls_group_comes_with_the_first_replica_ssl_database_and_goes_with_the_last(kube_env, team):
    """Against the API server emulator (simulated pods): the database's reconcile creates the group, the
    cluster's pass keeps it, and once the database is deleted the cluster's pass removes it; the quorum is not
    counted with it."""
    cluster = running_cluster(kube_env)
    database = create_database(cluster=cluster, name="secure", team=team, actor="t", spec={
        "memorySize": "100MB", "replication": True, "tlsMode": "replica_ssl"}).obj
    run(database)
    assert kube_env.store.find("StatefulSet", "redis", "rec-tls") is not None
    assert kube_env.store.find("Secret", "redis", "rec-sentinel-tls") is not None
    run(cluster)
    assert kube_env.store.find("StatefulSet", "redis", "rec-tls") is not None
    assert cluster.state == managed.RUNNING and cluster.status["nodes"] == "3/3"
    run(database)
    kube_env.emulator.reset_requests()  # idle: neither pass writes the group again (nor anything else)
    run(cluster)
    run(database)
    assert kube_env.emulator.writes() == []
    delete_database(database, actor="t")
    for _ in range(3):
        if run(database).gone:
            break
    run(cluster)
    assert kube_env.store.find("StatefulSet", "redis", "rec-tls") is None
    assert kube_env.store.find("Secret", "redis", "rec-sentinel-tls") is None
    assert kube_env.store.find("StatefulSet", "redis", "rec") is not None


def test_a_cluster_upgrade_rolls_the_tls_group_after_the_plain_one(kube_env, team):
    cluster = running_cluster(kube_env, redisEnterpriseImageSpec={"versionTag": "7.2"})
    database = create_database(cluster=cluster, name="secure", team=team, actor="t", spec={
        "memorySize": "100MB", "replication": True, "tlsMode": "replica_ssl"}).obj
    run(database)
    kube_env.settle()

    def images(component: str) -> set[str]:
        return {p["spec"]["containers"][0]["image"]
                for p in kube_env.store.all_of("Pod", "redis", f"app.kubernetes.io/component={component}")}
    assert images("quorum-tls") == {"redis:7.2"}
    upgrade_cluster(cluster, version="7.4", actor="t")
    for _ in range(16):
        kube_env.settle()
        run(cluster)
        if images("quorum") == images("quorum-tls") == {"redis:7.4"}:
            break
    assert images("quorum") == {"redis:7.4"} and images("quorum-tls") == {"redis:7.4"}
