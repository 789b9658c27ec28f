"""What a cluster (REC) becomes in Kubernetes: a pure function of its typed spec and resolved inputs.

Per cluster `<rec>` in its namespace: ServiceAccount, Role and RoleBinding `<rec>`; Secret `<rec>`
(bootstrap credentials); ConfigMap `<rec>-sentinel` (start script); StatefulSet `<rec>` of `nodes`
Redis Sentinel quorum members with PVCs; Services `<rec>` (sentinel discovery), `<rec>-headless`
(stable pod names) and `<rec>-ui`; a PodDisruptionBudget keeping a majority up; a ResourceQuota
holding the cluster's capacity; an Ingress for the API when `ingressOrRouteSpec.method` is `ingress`.
While a `tlsMode: replica_ssl` database exists, a second, TLS-speaking group (kube/render/tls_sentinels.py).
"""
from __future__ import annotations

import copy

from kube import podspec
from kube.render.inputs import ClusterInputs
from specs.cluster import ClusterSpec

SENTINEL_PORT = 26379
UI_PORT = 443
CONTROLPLANE_PORT = 8000
QUORUM_COMPONENT = "quorum"
# Quorum members are small: they only watch databases and vote.
QUORUM_MEMORY_REQUEST = 64 * podspec.MI
QUORUM_MEMORY_LIMIT = 128 * podspec.MI
# What the quorum pods' Role grants; whoever creates the Role must hold these too (RBAC escalation check).
SENTINEL_ROLE_RULES = ({"apiGroups": [""], "resources": ["pods", "endpoints"], "verbs": ["get", "list", "watch"]},)

SENTINEL_START = """set -eu
conf=/data/sentinel.conf
if [ ! -f "$conf" ]; then
  printf 'port %s\\ndir /data\\nsentinel resolve-hostnames yes\\nsentinel announce-hostnames yes\\n' \\
    "$SENTINEL_PORT" > "$conf"
fi
umask 077
grep -v -e '^requirepass ' -e '^sentinel announce-ip ' "$conf" > /data/sentinel.conf.new || true
printf 'sentinel announce-ip %s.%s\\nrequirepass "%s"\\n' "$(hostname)" "$PEER_DOMAIN" "$REDISCLI_AUTH" \\
  >> /data/sentinel.conf.new
mv /data/sentinel.conf.new "$conf"
exec redis-sentinel "$conf"
"""
# redis-cli reads the password from REDISCLI_AUTH: it is on no command line.
SENTINEL_PING = 'redis-cli -p "$SENTINEL_PORT" --no-auth-warning ping | grep -q PONG'


def cluster_labels(cluster, component: str) -> dict[str, str]:
    return podspec.labels(cluster.name, component=component, extra=cluster.typed_spec.extra_labels)


def quorum_selector(cluster) -> dict[str, str]:
    return podspec.selector(cluster.name, component=QUORUM_COMPONENT)


def headless_service_name(cluster) -> str:
    return f"{cluster.name}-headless"


def sentinel_hosts(cluster) -> list[str]:
    """DNS names of the quorum members, as pods and other services reach them."""
    domain = f"{headless_service_name(cluster)}.{cluster.namespace}.svc.{cluster.cluster_domain}"
    return [f"{cluster.name}-{i}.{domain}" for i in range(cluster.typed_spec.nodes)]


def render_cluster(cluster, *, reveal_secrets: bool = True) -> list[dict]:
    """Every manifest of a stored cluster, in apply order."""
    return cluster_manifests(ClusterInputs.of(cluster), reveal_secrets=reveal_secrets)


def cluster_manifests(cluster: ClusterInputs, *, reveal_secrets: bool = True, quorum_groups: int = 1) -> list[dict]:
    """Every manifest of a cluster, in apply order: a pure function of its inputs. `quorum_groups`: 2 while the
    TLS-speaking sentinel group runs too (kube/render/tls_sentinels.py), whose memory the quota holds as well."""
    spec = cluster.typed_spec
    name, namespace = cluster.name, cluster.namespace
    common = cluster_labels(cluster, "cluster")
    manifests = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": podspec.metadata(name, namespace, common)},
        _role(cluster, common),
        _role_binding(cluster, common),
        podspec.secret(name, namespace, common,
                       {"username": cluster.admin_username, "password": cluster.admin_password},
                       reveal=reveal_secrets),
        _start_script(cluster, common),
        _sentinel_service(cluster, common),
        podspec.headless_service(headless_service_name(cluster), namespace, common, quorum_selector(cluster),
                                 [{"name": "sentinel", "port": SENTINEL_PORT, "targetPort": SENTINEL_PORT}]),
        _ui_service(cluster, spec, common),
        quorum_statefulset(cluster, spec),
        podspec.disruption_budget(name, namespace, common, quorum_selector(cluster),
                                  min_available=spec.nodes // 2 + 1),
        _resource_quota(cluster, spec, common, quorum_groups),
    ]
    if spec.ingress:
        manifests.append(_ingress(cluster, spec, common))
    return manifests


def _role(cluster, common: dict) -> dict:
    # Quorum members only look up their peers; they never write to the Kubernetes API.
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": podspec.metadata(cluster.name, cluster.namespace, common),
        "rules": copy.deepcopy(list(SENTINEL_ROLE_RULES)),
    }


def _role_binding(cluster, common: dict) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": podspec.metadata(cluster.name, cluster.namespace, common),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": cluster.name},
        "subjects": [{"kind": "ServiceAccount", "name": cluster.name, "namespace": cluster.namespace}],
    }


def _start_script(cluster, common: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": podspec.metadata(f"{cluster.name}-sentinel", cluster.namespace, common),
        "data": {"start.sh": SENTINEL_START},
    }


def _sentinel_service(cluster, common: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": podspec.metadata(cluster.name, cluster.namespace, common),
        "spec": {"type": "ClusterIP", "selector": quorum_selector(cluster),
                 "ports": [{"name": "sentinel", "port": SENTINEL_PORT, "targetPort": SENTINEL_PORT}]},
    }


def _ui_service(cluster, spec: ClusterSpec, common: dict) -> dict:
    # The cluster's UI and REST API are the control plane's own; its pods carry this name label.
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": podspec.metadata(f"{cluster.name}-ui", cluster.namespace, common),
        "spec": {"type": spec.ui_service_type, "selector": {"app.kubernetes.io/name": podspec.MANAGED_BY},
                 "ports": [{"name": "ui", "port": UI_PORT, "targetPort": CONTROLPLANE_PORT}]},
    }


def quorum_statefulset(cluster, spec: ClusterSpec, *, name: str = "", component: str = QUORUM_COMPONENT,
                       headless: str = "", script: str = "/etc/sentinel/start.sh", extra_env: tuple = (),
                       extra_ports: tuple = (), extra_mounts: tuple = (), extra_volumes: tuple = (),
                       hash_parts: tuple = ()) -> dict:
    """The quorum members' StatefulSet; the keywords make the TLS-speaking group's (kube/render/tls_sentinels.py)."""
    name, headless = name or cluster.name, headless or headless_service_name(cluster)
    pod_labels = cluster_labels(cluster, component)
    selector = podspec.selector(cluster.name, component=component)
    version = cluster.version
    domain = f"{headless}.{cluster.namespace}.svc.{cluster.cluster_domain}"
    container = {
        "name": "sentinel",
        "image": podspec.image(version, spec.image_repository, spec.image_digest),
        "command": ["sh", script],
        "env": [
            {"name": "SENTINEL_PORT", "value": str(SENTINEL_PORT)},
            {"name": "PEER_DOMAIN", "value": domain},
            podspec.secret_env("REDISCLI_AUTH", cluster.name, "password"),
            *extra_env,
        ],
        "ports": [{"name": "sentinel", "containerPort": SENTINEL_PORT}, *extra_ports],
        # Ready as soon as the sentinel answers: a startup probe each second, then readiness (no fixed delay).
        "startupProbe": podspec.exec_probe(SENTINEL_PING, initial_delay=0, period=1, failures=60),
        "readinessProbe": podspec.exec_probe(SENTINEL_PING, initial_delay=0),
        "livenessProbe": podspec.exec_probe(SENTINEL_PING, initial_delay=30, failures=5),
        "resources": {
            "requests": {"cpu": "50m", "memory": podspec.mebibytes(QUORUM_MEMORY_REQUEST)},
            "limits": {"memory": podspec.mebibytes(QUORUM_MEMORY_LIMIT)},
        },
        "securityContext": podspec.container_security(),
        "volumeMounts": [{"name": "start", "mountPath": "/etc/sentinel"}, *extra_mounts],
    }
    volumes = [{"name": "start", "configMap": {"name": f"{cluster.name}-sentinel"}}, *extra_volumes]
    container["volumeMounts"].append({"name": "data", "mountPath": "/data"})
    claims = [podspec.volume_claim("data", spec, pod_labels)] if spec.persistence_enabled else []
    if not claims:
        volumes.append({"name": "data", "emptyDir": {}})
    pod_spec = {
        "serviceAccountName": cluster.name,
        "containers": [container],
        "volumes": volumes,
        "securityContext": podspec.pod_security(),
        **podspec.placement(spec, selector, spread_required=True),
    }
    podspec.pull_options(spec, pod_spec)
    config_hash = podspec.content_hash(version, SENTINEL_START, domain, *hash_parts)
    # Quorum members are replaced one at a time by the control plane (kube/rollout.py).
    return podspec.statefulset(
        podspec.metadata(name, cluster.namespace, pod_labels),
        replicas=spec.nodes, service_name=headless, pod_selector=selector,
        pod_labels=pod_labels, config_hash=config_hash, pod_spec=pod_spec, claims=claims,
    )


def _resource_quota(cluster, spec: ClusterSpec, common: dict, quorum_groups: int = 1) -> dict:
    # Database pods request exactly the memory the validator charges to the cluster; the quorum
    # members come on top. Limits are left free: they include Redis' overhead.
    memory = podspec.mebibytes(spec.capacity_bytes + quorum_groups * spec.nodes * QUORUM_MEMORY_REQUEST)
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": podspec.metadata(f"{cluster.name}-capacity", cluster.namespace, common),
        "spec": {"hard": {"requests.memory": memory}},
    }


def _ingress(cluster, spec: ClusterSpec, common: dict) -> dict:
    ingress = spec.ingress or {}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": podspec.metadata(f"{cluster.name}-ui", cluster.namespace, common,
                                     dict(ingress.get("ingressAnnotations") or {})),
        "spec": {"rules": [{
            "host": ingress["apiFqdnUrl"],
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                "service": {"name": f"{cluster.name}-ui", "port": {"number": UI_PORT}}}}]},
        }]},
    }
