"""Rendering: pure functions of the stored spec, valid Kubernetes 1.30 manifests (strict schemas)."""
from __future__ import annotations

import kubernetes_validate
import pytest
import yaml
from cryptography import x509
from django.core.management import call_command
from django.core.management.base import CommandError

from clusters.models import Cluster
from databases.models import Database
from dataplane.certificates import signed_by
from kube.render.cluster import render_cluster
from kube.render.database import render_database
from kube.render.redis_scripts import POD_LOGIN
from targets.models import Target

from .emulator_admission import violations

MAXIMAL_CLUSTER = {
    "nodes": 5,
    "redisEnterpriseNodeResources": {"limits": {"cpu": "4", "memory": "8Gi"}},
    "persistentSpec": {"enabled": True, "storageClassName": "fast-ssd", "volumeSize": "20Gi",
                       "enablePersistentVolumeResize": True},
    "redisEnterpriseImageSpec": {"versionTag": "7.2"},
    "nodeSelector": {"pool": "redis"},
    "podTolerations": [{"key": "dedicated", "operator": "Equal", "value": "redis", "effect": "NoSchedule"}],
    "rackAwarenessNodeLabel": "topology.kubernetes.io/zone",
    "priorityClassName": "redis-high",
    "extraLabels": {"cost-center": "payments"},
    "uiServiceType": "LoadBalancer",
    "ingressOrRouteSpec": {"method": "ingress", "apiFqdnUrl": "api.redis.example.com",
                           "dbFqdnSuffix": "-db.redis.example.com",
                           "ingressAnnotations": {"kubernetes.io/ingress.class": "nginx"}},
}
MAXIMAL_DATABASE = {"memorySize": "2GB", "shardCount": 3, "replication": True, "persistence": "aofEverySecond",
                    "evictionPolicy": "allkeys-lru", "databasePort": 10001, "redisVersion": "7.4",
                    "databaseSecretName": "cache-credentials"}


@pytest.fixture
def objects():
    target = Target(name="k8s", kind=Target.KUBERNETES)
    cluster = Cluster(name="rec", namespace="redis", target=target, spec=MAXIMAL_CLUSTER,
                      admin_password="cluster-secret-pw")
    database = Database(name="cache", cluster=cluster, spec=MAXIMAL_DATABASE, password="database-secret-pw")
    return cluster, database


def kinds(manifests):
    return sorted(f"{m['kind']}/{m['metadata']['name']}" for m in manifests)


def test_every_manifest_of_a_maximal_spec_passes_strict_1_30_schemas(objects):
    cluster, database = objects
    manifests = render_cluster(cluster) + render_database(database)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    assert kinds(render_cluster(cluster)) == [
        "ConfigMap/rec-sentinel", "Ingress/rec-ui", "PodDisruptionBudget/rec", "ResourceQuota/rec-capacity",
        "Role/rec", "RoleBinding/rec", "Secret/rec", "Service/rec", "Service/rec-headless", "Service/rec-ui",
        "ServiceAccount/rec", "StatefulSet/rec"]
    assert kinds(render_database(database)) == [  # no Ingress: passthrough needs the database to speak TLS
        "ConfigMap/cache-config", "NetworkPolicy/cache", "PodDisruptionBudget/cache",
        "Secret/cache-credentials", "Secret/cache-internal", "Service/cache", "Service/cache-headless",
        "StatefulSet/cache-shard-0", "StatefulSet/cache-shard-1", "StatefulSet/cache-shard-2"]
    for manifest in manifests:
        if manifest["kind"] == "StatefulSet":  # Pod Security "restricted", as the emulator's admission checks it
            assert violations(manifest["spec"]["template"]["spec"], "restricted") == [], manifest["metadata"]["name"]


def test_minimal_spec_is_valid_too_and_has_no_ingress(objects):
    cluster, _ = objects
    cluster.spec = {}
    database = Database(name="db1", cluster=cluster, spec={})
    manifests = render_cluster(cluster) + render_database(database)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    assert not [m for m in manifests if m["kind"] == "Ingress"]
    statefulset = next(m for m in render_database(database) if m["kind"] == "StatefulSet")
    assert "volumeClaimTemplates" not in statefulset["spec"]  # persistence disabled: no PVCs


def test_schema_check_is_real(objects):
    cluster, _ = objects
    service = next(m for m in render_cluster(cluster) if m["kind"] == "Service")
    service["spec"]["bogus"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, "1.30.0", strict=True)


def test_labels_on_everything(objects):
    cluster, database = objects
    for manifest in render_cluster(cluster) + render_database(database):
        labels = manifest["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "redis-controlplane"
        assert labels["app"] == "redis-enterprise"
        assert labels["redis.io/cluster"] == "rec"
        assert labels["cost-center"] == "payments"
        assert "app.kubernetes.io/name" in labels and "app.kubernetes.io/instance" in labels
    for manifest in render_database(database):
        assert manifest["metadata"]["labels"]["redis.io/database"] == "cache"


def test_secrets_hold_credentials_and_redact_on_request(objects):
    cluster, database = objects
    secret = next(m for m in render_database(database) if m["kind"] == "Secret")
    assert secret["stringData"] == {"port": "10001", "service_names": "cache,cache-headless",
                                    "password": "database-secret-pw"}
    redacted = render_cluster(cluster, reveal_secrets=False) + render_database(database, reveal_secrets=False)
    text = yaml.safe_dump(redacted)
    assert "database-secret-pw" not in text and "cluster-secret-pw" not in text
    assert "<redacted>" in text
    # Pods read passwords from the Secrets, never inline.
    for manifest in render_cluster(cluster) + render_database(database):
        if manifest["kind"] == "StatefulSet":
            assert "secret-pw" not in str(manifest)
            env = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
            assert any(e.get("valueFrom", {}).get("secretKeyRef") for e in env)


def test_statefulsets_follow_spec(objects):
    cluster, database = objects
    quorum = next(m for m in render_cluster(cluster) if m["kind"] == "StatefulSet")
    assert quorum["spec"]["replicas"] == 5
    assert quorum["spec"]["template"]["spec"]["containers"][0]["image"] == "redis:7.2"
    claim = quorum["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "fast-ssd" and claim["resources"]["requests"]["storage"] == "20Gi"
    pdb = next(m for m in render_cluster(cluster) if m["kind"] == "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 3  # a majority of 5
    shards = [m for m in render_database(database) if m["kind"] == "StatefulSet"]
    # A StatefulSet per shard (master + replica), whose required anti-affinity keeps only its own copies apart.
    assert [s["metadata"]["name"] for s in shards] == ["cache-shard-0", "cache-shard-1", "cache-shard-2"]
    assert {s["spec"]["replicas"] for s in shards} == {2}
    assert {s["spec"]["template"]["spec"]["containers"][0]["image"] for s in shards} == {"redis:7.4"}
    for index, shard in enumerate(shards):
        assert shard["spec"]["selector"]["matchLabels"]["redis.io/shard"] == str(index)
        terms = shard["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"]
        assert {t["labelSelector"]["matchLabels"]["redis.io/shard"] for t in terms} == {str(index)}
    # One pod template hash for all shards: adding or removing a shard rolls no pod.
    assert len({s["spec"]["template"]["metadata"]["annotations"]["redis.io/config-hash"] for s in shards}) == 1
    config = next(m for m in render_database(database) if m["kind"] == "ConfigMap")["data"]
    assert 'maxmemory "715827882"' in config["live.conf"]  # 2GB (2 x 1024^3 bytes) over 3 shards
    assert 'maxmemory-policy "allkeys-lru"' in config["live.conf"] and 'appendonly "yes"' in config["live.conf"]
    assert "cluster-enabled yes" in config["redis.conf"]
    quota = next(m for m in render_cluster(cluster) if m["kind"] == "ResourceQuota")
    assert quota["spec"]["hard"]["requests.memory"] == f"{5 * 8 * 1024 + 5 * 64}Mi"


def test_every_shard_pod_has_an_exporter_sidecar_reached_through_the_headless_service(objects):
    _, database = objects
    manifests = render_database(database)
    pod = next(m for m in manifests if m["kind"] == "StatefulSet")["spec"]["template"]["spec"]
    redis_container, sidecar = pod["containers"]
    assert sidecar["image"].startswith("oliver006/redis_exporter:")
    assert sidecar["args"][:2] == ["-redis.addr", "redis://127.0.0.1:6379"]
    user, password = sidecar["env"]  # the pods' own login
    assert user == {"name": "REDIS_USER", "value": "cp-admin"}
    assert password["name"] == "REDIS_PASSWORD" and password["valueFrom"]["secretKeyRef"] == {
        "name": "cache-internal", "key": "password"}
    assert "database-secret-pw" not in yaml.safe_dump(pod)
    assert sidecar["resources"]["requests"]["memory"] == "0"  # the quota charges the database's memorySize only
    headless = next(m for m in manifests if m["kind"] == "Service" and m["metadata"]["name"] == "cache-headless")
    assert {"name": "metrics", "port": 9121, "targetPort": 9121} in headless["spec"]["ports"]


def test_placement_keeps_replicas_apart(objects):
    cluster, database = objects
    for manifest in (render_cluster(cluster)[8], next(m for m in render_database(database) if m["kind"] ==
                                                      "StatefulSet")):
        pod = manifest["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"pool": "redis"}
        assert pod["tolerations"][0]["key"] == "dedicated"
        assert pod["priorityClassName"] == "redis-high"
        terms = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert {t["topologyKey"] for t in terms} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    cluster.spec = {**MAXIMAL_CLUSTER, "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
    pod = render_cluster(cluster)[8]["spec"]["template"]["spec"]
    assert pod["affinity"]["podAntiAffinity"] == {"preferredDuringSchedulingIgnoredDuringExecution": []}


def test_config_hash_changes_only_with_restart_config(objects):
    cluster, database = objects

    def config_hash():
        statefulset = next(m for m in render_database(database) if m["kind"] == "StatefulSet")
        return statefulset["spec"]["template"]["metadata"]["annotations"]["redis.io/config-hash"]

    before = config_hash()
    database.spec = {**MAXIMAL_DATABASE, "memorySize": "3GB", "evictionPolicy": "noeviction"}
    assert config_hash() == before
    database.spec = {**MAXIMAL_DATABASE, "redisVersion": "7.2"}
    assert config_hash() != before


@pytest.mark.django_db
def test_render_command_prints_manifests_and_stores_nothing(tmp_path, capsys):
    path = tmp_path / "objects.yaml"
    path.write_text(
        "apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseCluster\nmetadata: {name: rec, namespace: redis}\n"
        "spec: {nodes: 3}\n---\napiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseDatabase\n"
        "metadata: {name: cache, namespace: redis}\nspec: {memorySize: 200MB, replication: true}\n")
    call_command("render", "-f", str(path))
    manifests = list(yaml.safe_load_all(capsys.readouterr().out))
    assert {"StatefulSet/rec", "StatefulSet/cache", "Secret/redb-cache"} <= set(kinds(manifests))
    assert all(v == "<redacted>" for m in manifests if m["kind"] == "Secret" for v in m["stringData"].values())
    assert not Cluster.objects.exists() and not Database.objects.exists()
    assert not Target.objects.filter(kind=Target.KUBERNETES).exists()


@pytest.mark.django_db
def test_render_command_reports_field_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: app.redislabs.com/v1\nkind: RedisEnterpriseCluster\nmetadata: {name: rec}\n"
                    "spec: {nodes: 2}\n")
    with pytest.raises(CommandError, match=r"documents\[0\]\.spec\.nodes"):
        call_command("render", "-f", str(path))


@pytest.mark.parametrize(("nbytes", "quantity"), [
    (100 * 1000**2, "96Mi"), (1024**3, "1Gi"), (5 * 1024**3, "5Gi"), (1536 * 1024**2, "1536Mi"), (1024**4, "1Ti"),
    (1, "1Mi")])
def test_memory_quantities_are_in_the_api_servers_canonical_form(nbytes, quantity):
    from kube.podspec import mebibytes

    assert mebibytes(nbytes) == quantity


def test_volume_sizes_are_canonical(objects):
    cluster, _ = objects
    cluster.spec = {**MAXIMAL_CLUSTER, "persistentSpec": {"enabled": True, "volumeSize": "5120Mi"}}
    quorum = next(m for m in render_cluster(cluster) if m["kind"] == "StatefulSet")
    assert quorum["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"


def pod_of(manifests: list[dict]) -> dict:
    return next(m for m in manifests if m["kind"] == "StatefulSet")["spec"]["template"]["spec"]


def test_pods_run_as_redis_with_no_password_in_any_command(objects):
    cluster, database = objects
    for manifests in (render_cluster(cluster), render_database(database)):
        pod = pod_of(manifests)
        assert pod["securityContext"]["runAsUser"] == 999 and pod["securityContext"]["fsGroup"] == 999
        container = pod["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        env = {e["name"]: e for e in container["env"]}
        assert env["REDISCLI_AUTH"]["valueFrom"]["secretKeyRef"]["key"] == "password"
        probes = str([container[k] for k in container if k.endswith("Probe")]).replace(repr(POD_LOGIN)[1:-1], "")
        assert " -a " not in probes and "PASSWORD" not in probes
    pod = pod_of(render_database(database))
    assert {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]} >= {"/run/redis", "/data"}
    # The database pods hold their own credentials only: not the cluster's Secret (its admin password).
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in pod["containers"][0]["env"] if "valueFrom" in e}
    assert refs == {"cache-credentials", "cache-internal"}
    assert pod["containers"][0]["env"][[e["name"] for e in pod["containers"][0]["env"]].index("SENTINEL_USER")] \
        == {"name": "SENTINEL_USER", "value": "db-cache"}


def test_probes_startup_liveness_readiness(objects):
    _, database = objects
    container = pod_of(render_database(database))["containers"][0]
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 300
    assert "LOADING" in container["livenessProbe"]["exec"]["command"][2]
    assert "master_link_status:up" in container["readinessProbe"]["exec"]["command"][2]


def test_memory_limit_covers_fork_and_replica_buffer(objects):
    _, database = objects  # 2GB over 3 shards, replicated
    shard = database.typed_spec.shard_memory_bytes
    limits = pod_of(render_database(database))["containers"][0]["resources"]["limits"]["memory"]
    assert limits == f"{-(-(2 * shard) // 1024**2) + 256 + 64}Mi"  # maxmemory + fork copy + replica buffer
    database = Database(name="plain", cluster=database.cluster, spec={"memorySize": "1GB"})
    shard = database.typed_spec.shard_memory_bytes  # no replica, no persistence: nothing forks
    limits = pod_of(render_database(database))["containers"][0]["resources"]["limits"]["memory"]
    assert limits == f"{-(-(shard + shard // 4) // 1024**2) + 64}Mi"


def test_network_policy_admits_the_namespace_and_the_databases_own_pods(objects):
    _, database = objects
    policy = next(m for m in render_database(database) if m["kind"] == "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    namespace_rule, own_rule = policy["ingress"]
    assert namespace_rule == {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 6379}]}
    assert own_rule["from"][0]["podSelector"]["matchLabels"] == policy["podSelector"]["matchLabels"]
    assert {p["port"] for p in own_rule["ports"]} == {6379, 16379}


def test_cluster_domain_ipv6_and_6_2_cluster_config(objects):
    cluster, database = objects
    cluster.target.settings = {"cluster_domain": "corp.internal"}
    env = {e["name"]: e.get("value") for e in pod_of(render_database(database))["containers"][0]["env"]}
    assert env["PEER_DOMAIN"] == "cache-headless.redis.svc.corp.internal"
    assert env["SENTINEL_HOST"] == "rec.redis.svc.corp.internal"
    assert env["PEERS"].split()[0] == "cache-shard-0-0.cache-headless.redis.svc.corp.internal:6379"
    assert "cluster.local" not in str(render_cluster(cluster) + render_database(database))
    config = next(m for m in render_database(database) if m["kind"] == "ConfigMap")["data"]["redis.conf"]
    assert "bind * -::*" in config and "cluster-announce-hostname" in config
    database.spec = {**MAXIMAL_DATABASE, "redisVersion": "6.2"}
    config = next(m for m in render_database(database) if m["kind"] == "ConfigMap")["data"]["redis.conf"]
    assert "cluster-enabled yes" in config and "cluster-announce-hostname" not in config


def test_the_longest_names_the_validator_admits_fit_every_kubernetes_limit(objects):
    from core.validation import OBJECT_NAME_MAX
    from databases.validation import SHARDED_NAME_MAX
    from specs.database import MAX_SHARDS

    cluster, database = objects
    cluster.name, database.name = "r" * OBJECT_NAME_MAX, "c" * SHARDED_NAME_MAX
    database.spec = {**database.spec, "shardCount": MAX_SHARDS, "memorySize": f"{MAX_SHARDS}GB"}
    rendered = render_database(database)
    assert len([m for m in rendered if m["kind"] == "StatefulSet"]) == MAX_SHARDS
    database.name, database.spec = "c" * OBJECT_NAME_MAX, {**database.spec, "shardCount": 1}
    for manifest in render_cluster(cluster) + render_database(database) + rendered:
        name = manifest["metadata"]["name"]
        if manifest["kind"] in ("Service", "StatefulSet", "NetworkPolicy"):
            assert len(name) <= 63, name  # DNS-1035 label; pods' hostnames
        if manifest["kind"] == "StatefulSet":
            assert len(f"{name}-{'h' * 10}") <= 63  # controller-revision-hash label value
            assert len(f"{name}-{manifest['spec']['replicas'] - 1}") <= 63
        assert all(len(value) <= 63 for value in manifest["metadata"]["labels"].values())


@pytest.mark.parametrize(("memory_size", "maxmemory", "pod_request"), [
    ("100MB", 100 * 1024**2, "100Mi"), ("100Mi", 100 * 1024**2, "100Mi"), ("1GB", 1024**3, "1Gi"),
    ("1G", 1000**3, "954Mi"), ("500m", 500 * 1000**2, "477Mi")])
def test_memory_size_units_reach_maxmemory_and_the_pod_request_alike(objects, memory_size, maxmemory, pod_request):
    """Redis's MB/GB (1024-based) and Kubernetes' Mi/G mean the same bytes in redis.conf and in the pod spec."""
    _, database = objects
    database.spec = {**MAXIMAL_DATABASE, "memorySize": memory_size, "shardCount": 1, "replication": False}
    manifests = render_database(database)
    config = next(m for m in manifests if m["kind"] == "ConfigMap")["data"]
    assert f'maxmemory "{maxmemory}"' in config["live.conf"]
    shards = next(m for m in manifests if m["kind"] == "StatefulSet")
    assert shards["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] == pod_request


def test_a_valkey_version_renders_the_valkey_image(objects):
    cluster, _ = objects
    cluster.spec = {**MAXIMAL_CLUSTER, "redisEnterpriseImageSpec": {"versionTag": "valkey-9.1"}}
    database = Database(name="moved", cluster=cluster, spec={"redisVersion": "valkey-9.1", "replication": True})
    manifests = render_cluster(cluster) + render_database(database)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    images = {m["metadata"]["name"]: m["spec"]["template"]["spec"]["containers"][0]["image"]
              for m in manifests if m["kind"] == "StatefulSet"}
    assert images == {"rec": "valkey/valkey:9.1", "moved": "valkey/valkey:9.1"}


def test_modules_render_the_redis_stack_image_with_loadmodule_lines(objects):
    cluster, _ = objects
    spec = {"redisVersion": "7.4", "modulesList": [{"name": "ReJSON"}, {"name": "bf"}]}
    database = Database(name="docs", cluster=cluster, spec=spec, password="pw")
    manifests = render_database(database)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    statefulset = next(m for m in manifests if m["kind"] == "StatefulSet")
    assert statefulset["spec"]["template"]["spec"]["containers"][0]["image"] == "redis/redis-stack-server:7.4.0-v1"
    config = next(m for m in manifests if m["kind"] == "ConfigMap")["data"]["redis.conf"]
    assert "loadmodule /opt/redis-stack/lib/rejson.so\nloadmodule /opt/redis-stack/lib/redisbloom.so\n" in config


def test_kubernetes_offers_modules_only_where_a_stack_image_is_tagged(objects):
    from kube.driver import KubernetesDriver
    from specs.database import DatabaseSpec

    cluster, _ = objects
    driver = KubernetesDriver(cluster.target)
    with_search = DatabaseSpec.from_spec({"redisVersion": "7.4", "modulesList": [{"name": "search"}]})
    assert driver.database_spec_problems(with_search, None) == {}
    old = DatabaseSpec.from_spec({"redisVersion": "7.0", "modulesList": [{"name": "bf"}]})
    assert driver.database_spec_problems(old, None) == {"spec.modulesList[0].name": (
        "modules need the redis-stack-server image, offered here for Redis 7.2, 7.4; this database runs Redis 7.0; "
        "available: none")}


def test_tls_renders_its_secret_port_mount_and_the_passthrough_ingress(objects):
    cluster, _ = objects
    database = Database(name="secure", cluster=cluster, spec={"tlsMode": "enabled", "databasePort": 10002})
    manifests = render_database(database)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    by_kind = {f"{m['kind']}/{m['metadata']['name']}": m for m in manifests}
    tls = by_kind["Secret/secure-tls"]["stringData"]
    stem = next(key for key in tls if key.startswith("server-")).rsplit(".", 1)[0]  # named by the serial
    assert signed_by(tls[f"{stem}.crt"], tls["ca.crt"]) and "PRIVATE KEY" in tls[f"{stem}.key"]
    assert tls["tls.conf"] == (f"tls-cert-file /etc/redis-tls/{stem}.crt\ntls-key-file /etc/redis-tls/{stem}.key\n"
                               "tls-ca-cert-file /etc/redis-tls/ca.crt\n")
    assert by_kind["Service/secure"]["spec"]["ports"] == [{"name": "redis", "port": 10002, "targetPort": 6380}]
    redis_conf = by_kind["ConfigMap/secure-config"]["data"]["redis.conf"]
    assert "tls-port 6380\ninclude /etc/redis-tls/tls.conf\ntls-auth-clients no\n" in redis_conf
    pod = by_kind["StatefulSet/secure"]["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "secure-tls", "defaultMode": 0o400}} in pod["volumes"]
    assert {"name": "redis-tls", "containerPort": 6380} in pod["containers"][0]["ports"]
    ingress = by_kind["Ingress/secure"]
    assert ingress["spec"]["rules"][0]["host"] == "secure-db.redis.example.com"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-passthrough"] == "true"
    san = x509.load_pem_x509_certificate(tls[f"{stem}.crt"].encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert {"secure", "secure.redis.svc.cluster.local", "secure-db.redis.example.com",
            "*.secure-headless.redis.svc.cluster.local"} <= set(san)
    again = next(m for m in render_database(database) if m["metadata"]["name"] == "secure-tls")
    assert again["stringData"][f"{stem}.crt"] == tls[f"{stem}.crt"]  # the same until renewal
    redacted = yaml.safe_dump(render_database(database, reveal_secrets=False))
    assert "PRIVATE KEY" not in redacted


@pytest.mark.django_db  # the mutual TLS check looks for stored certificate secrets
def test_a_sharded_tls_database_renders_tls_cluster_with_its_bus_on_16380_and_keeps_its_tls_mode(objects):
    from kube.driver import KubernetesDriver
    from specs.database import DatabaseSpec

    cluster, _ = objects
    database = Database(name="secure", cluster=cluster, spec={"tlsMode": "enabled", "shardCount": 2,
                                                              "memorySize": "200MB", "replication": False})
    manifests = render_database(database)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    by_kind = {f"{m['kind']}/{m['metadata']['name']}": m for m in manifests}
    assert "cluster-enabled yes\n" in by_kind["ConfigMap/secure-config"]["data"]["redis.conf"]
    assert "tls-cluster yes\n" in by_kind["ConfigMap/secure-config"]["data"]["redis.conf"]
    ports = by_kind["StatefulSet/secure-shard-1"]["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [p["containerPort"] for p in ports] == [6379, 6380, 16380]  # no plain bus port
    own = by_kind["NetworkPolicy/secure"]["spec"]["ingress"][1]["ports"]
    assert {p["port"] for p in own} == {6379, 6380, 16380}
    plain = render_database(Database(name="plain", cluster=cluster, spec={"shardCount": 2, "memorySize": "200MB"}))
    assert "tls-cluster" not in next(m for m in plain if m["kind"] == "ConfigMap")["data"]["redis.conf"]

    driver = KubernetesDriver(cluster.target)
    sharded = DatabaseSpec.from_spec({"tlsMode": "enabled", "shardCount": 2, "memorySize": "200MB"})
    assert driver.database_spec_problems(sharded, None) == {}
    assert driver.database_spec_problems(DatabaseSpec.from_spec({"shardCount": 2, "memorySize": "200MB"}),
                                         sharded)["spec.tlsMode"].startswith(
        "a sharded database (Redis Cluster) keeps the tlsMode it was created with (enabled)")
    mutual = DatabaseSpec.from_spec({"tlsMode": "enabled", "shardCount": 2, "memorySize": "200MB",
                                     "clientAuthenticationCertificates": ["app"]})
    assert driver.database_spec_problems(mutual, None)["spec.clientAuthenticationCertificates"].startswith(
        "mutual TLS on a sharded database (Redis Cluster) is not offered")
