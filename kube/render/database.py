"""What a database (REDB) becomes in Kubernetes: a pure function of its typed spec and resolved inputs.

Per database `<db>` in its cluster's namespace: Secret `redb-<db>` (or `databaseSecretName`) with
`port`, `service_names` and `password`; ConfigMap `<db>-config` (redis.conf, the live settings and a
start script); StatefulSet `<db>` of stock `redis` pods (`valkey/valkey` for a Valkey version,
`redis/redis-stack-server` with `loadmodule` lines when `modulesList` names modules), one per shard
process (master + replica when `replication`), placed by the cluster's policy with no two on one node; Service `<db>` on
`databasePort` selecting the current master (the services rigger labels it) and `<db>-headless`;
a PodDisruptionBudget; and an Ingress with TLS passthrough when the cluster routes through one.
"""
from __future__ import annotations

from dataplane.cluster import MASTER
from kube import podspec
from kube.render.cluster import SENTINEL_PORT
from kube.render.inputs import DatabaseInputs
from specs.cluster import ClusterSpec
from specs.database import DatabaseSpec, RedisConfig
from targets.modules import CATALOG as MODULES

REDIS_PORT = 6379
CLUSTER_BUS_PORT = 16379
DEFAULT_DATABASE_PORT = REDIS_PORT
SHARD_COMPONENT = "shard"
SHARD_COUNT_ANNOTATION = "redis.io/shard-count"

# Restart-only settings. `live.conf` (below) holds what CONFIG SET changes without a restart.
STATIC_CONFIG = """port {port}
bind 0.0.0.0
protected-mode no
dir /data
replica-announce-ip {announce}
include /etc/redis/live.conf
include /run/redis/auth.conf
"""
SHARDED_CONFIG = "cluster-enabled yes\ncluster-config-file /data/nodes.conf\ncluster-announce-hostname {announce}\n"

# Reads the password from the Secret-backed environment into a file only the pod sees; asks the
# cluster's sentinels who the master is, so a restarted master never comes back as a second master.
# When they still name this pod master, it restarted (kill -9, OOM, pod deleted) before they noticed:
# coming back as master, empty or behind, would make its replica resync from it and lose every write
# the replica had acknowledged. So it waits until they have failed over to a healthy replica (at once
# when there is none) and then replicates from the new master.
REDIS_START = """set -eu
mkdir -p /run/redis
umask 077
printf 'requirepass "%s"\\nmasterauth "%s"\\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD" > /run/redis/auth.conf
me="$(hostname).$PEER_DOMAIN"
sed "s/{announce}/$me/" /etc/redis/redis.conf > /run/redis/redis.conf
sentinel() {
  redis-cli -h "$SENTINEL_HOST" -p "$SENTINEL_PORT" -a "$SENTINEL_PASSWORD" --no-auth-warning sentinel "$@" \\
    2>/dev/null || true
}
healthy_replica() {
  sentinel replicas "$DB_NAME" | awk 'prev == "flags" && $0 !~ /down|disconnected/ {n++} {prev = $0} END {exit !n}'
}
if [ "$SHARDED" = "no" ]; then
  master=$(sentinel get-master-addr-by-name "$DB_NAME" | head -n 1)
  while [ "$master" = "$me" ] && healthy_replica; do
    echo "the sentinels still name $me master; waiting for them to fail over to a replica"
    sleep 1
    master=$(sentinel get-master-addr-by-name "$DB_NAME" | head -n 1)
  done
  if [ -n "$master" ] && [ "$master" != "$me" ]; then
    echo "replicaof $master $REDIS_PORT" >> /run/redis/redis.conf
  elif [ -z "$master" ] && [ "${HOSTNAME##*-}" != "0" ]; then
    echo "replicaof $DB_NAME-0.$PEER_DOMAIN $REDIS_PORT" >> /run/redis/redis.conf
  fi
  echo "sentinels name ${master:-no master}; starting as $(grep -q '^replicaof' /run/redis/redis.conf && \\
    grep '^replicaof' /run/redis/redis.conf || echo master)"
fi
exec redis-server /run/redis/redis.conf
"""
REDIS_PING = 'redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG'


def database_port(database) -> int:
    return database.typed_spec.port or DEFAULT_DATABASE_PORT


def service_names(database) -> list[str]:
    return [database.name, f"{database.name}-headless"]


def shard_selector(database) -> dict[str, str]:
    return podspec.selector(database.cluster.name, component=SHARD_COMPONENT, database=database.name)


def database_labels(database, component: str) -> dict[str, str]:
    extra = database.cluster.typed_spec.extra_labels
    return podspec.labels(database.cluster.name, component=component, database=database.name, extra=extra)


def live_config(config: RedisConfig) -> str:
    """redis.conf lines for the settings applied live with CONFIG SET (never a reason to restart)."""
    return "".join(f'{key} "{value}"\n' for key, value in config.as_config_set().items())


def static_config(spec: DatabaseSpec) -> str:
    text = STATIC_CONFIG.format(port=REDIS_PORT, announce="{announce}")
    if spec.shard_count > 1:
        text += SHARDED_CONFIG.format(announce="{announce}")
    text += "".join(f"loadmodule {podspec.STACK_MODULE_DIR}/{MODULES[name].library}\n" for name in spec.module_names)
    return text


def render_database(database, *, reveal_secrets: bool = True) -> list[dict]:
    """Every manifest of a stored database, in apply order."""
    return database_manifests(DatabaseInputs.of(database), reveal_secrets=reveal_secrets)


def database_manifests(database: DatabaseInputs, *, reveal_secrets: bool = True) -> list[dict]:
    """Every manifest of a database, in apply order."""
    spec = database.typed_spec
    cluster_spec = database.cluster.typed_spec
    name, namespace = database.name, database.namespace
    common = database_labels(database, "database")
    port = database_port(database)
    manifests = [
        podspec.secret(spec.secret_name, namespace, common, {
            "port": str(port),
            "service_names": ",".join(service_names(database)),
            "password": database.password,
        }, reveal=reveal_secrets),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": podspec.metadata(f"{name}-config", namespace, common),
            "data": {"redis.conf": static_config(spec), "live.conf": live_config(spec.redis_config()),
                     "start.sh": REDIS_START},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": podspec.metadata(name, namespace, common),
            "spec": {"type": "ClusterIP", "selector": {**shard_selector(database), podspec.ROLE_LABEL: MASTER},
                     "ports": [{"name": "redis", "port": port, "targetPort": REDIS_PORT}]},
        },
        podspec.headless_service(f"{name}-headless", namespace, common, shard_selector(database), _ports(spec)),
        _statefulset(database, spec, cluster_spec),
        podspec.disruption_budget(name, namespace, common, shard_selector(database), max_unavailable=1),
    ]
    if cluster_spec.ingress:
        manifests.append(_ingress(database, cluster_spec, common, port))
    return manifests


def _ports(spec: DatabaseSpec) -> list[dict]:
    ports = [{"name": "redis", "port": REDIS_PORT, "targetPort": REDIS_PORT}]
    if spec.shard_count > 1:
        ports.append({"name": "cluster-bus", "port": CLUSTER_BUS_PORT, "targetPort": CLUSTER_BUS_PORT})
    return ports


def _statefulset(database, spec: DatabaseSpec, cluster_spec: ClusterSpec) -> dict:
    cluster = database.cluster
    pod_labels = database_labels(database, SHARD_COMPONENT)
    version = database.version
    peer_domain = f"{database.name}-headless.{database.namespace}.svc.cluster.local"
    sentinel_host = f"{cluster.name}.{cluster.namespace}.svc.cluster.local"
    shard_memory = spec.shard_memory_bytes
    container = {
        "name": "redis",
        "image": database.image,
        "command": ["sh", "/etc/redis/start.sh"],
        "env": [
            {"name": "DB_NAME", "value": database.name},
            {"name": "REDIS_PORT", "value": str(REDIS_PORT)},
            {"name": "PEER_DOMAIN", "value": peer_domain},
            {"name": "SHARDED", "value": "yes" if spec.shard_count > 1 else "no"},
            {"name": "SENTINEL_HOST", "value": sentinel_host},
            {"name": "SENTINEL_PORT", "value": str(SENTINEL_PORT)},
            podspec.secret_env("REDIS_PASSWORD", spec.secret_name, "password"),
            podspec.secret_env("SENTINEL_PASSWORD", cluster.name, "password"),
        ],
        "ports": [{"name": p["name"], "containerPort": p["targetPort"]} for p in _ports(spec)],
        "readinessProbe": podspec.exec_probe(REDIS_PING, initial_delay=5),
        "livenessProbe": podspec.exec_probe(REDIS_PING, initial_delay=30, failures=5),
        # Requests match the memory the validator charged to the cluster; the limit leaves room for
        # Redis' own overhead (replication buffers, fork for persistence).
        "resources": {
            "requests": {"cpu": "100m", "memory": podspec.mebibytes(shard_memory)},
            "limits": {"memory": podspec.mebibytes(shard_memory + max(64 * podspec.MI, shard_memory // 4))},
        },
        "volumeMounts": [{"name": "config", "mountPath": "/etc/redis"}, {"name": "data", "mountPath": "/data"}],
    }
    volumes = [{"name": "config", "configMap": {"name": f"{database.name}-config"}}]
    persistent = spec.persistence != "disabled"
    if not persistent:
        volumes.append({"name": "data", "emptyDir": {}})
    config_hash = podspec.content_hash(version, static_config(spec), REDIS_START, peer_domain)
    pod_spec = {
        "containers": [container],
        "volumes": volumes,
        "automountServiceAccountToken": False,
        **podspec.placement(cluster_spec, shard_selector(database), spread_required=True),
    }
    claims = [podspec.volume_claim("data", cluster_spec, pod_labels)] if persistent else []
    # The control plane rolls replicas first and the master last (kube/rollout.py). The shard count a
    # running Redis Cluster was formed with is annotated: changing it needs resharding.
    return podspec.statefulset(
        podspec.metadata(database.name, database.namespace, pod_labels,
                         {SHARD_COUNT_ANNOTATION: str(spec.shard_count)}),
        replicas=spec.process_count, service_name=headless_service_name_of(database),
        pod_selector=shard_selector(database), pod_labels=pod_labels, config_hash=config_hash, pod_spec=pod_spec,
        claims=claims,
    )


def headless_service_name_of(database) -> str:
    return f"{database.name}-headless"


def _ingress(database, cluster_spec: ClusterSpec, common: dict, port: int) -> dict:
    ingress = cluster_spec.ingress or {}
    annotations = dict(ingress.get("ingressAnnotations") or {})
    annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] = "true"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": podspec.metadata(database.name, database.namespace, common, annotations),
        "spec": {"rules": [{
            "host": f"{database.name}{ingress.get('dbFqdnSuffix', '')}",
            "http": {"paths": [{"path": "/", "pathType": "ImplementationSpecific", "backend": {
                "service": {"name": database.name, "port": {"number": port}}}}]},
        }]},
    }

