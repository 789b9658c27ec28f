"""What a database (REDB) becomes in Kubernetes: a pure function of its typed spec and resolved inputs.

Per database `<db>` in its cluster's namespace: Secret `redb-<db>` (or `databaseSecretName`) with
`port`, `service_names` and `password`; ConfigMap `<db>-config` (redis.conf, the live settings and a
start script); StatefulSet `<db>` of stock `redis` pods (`valkey/valkey` for a Valkey version,
`redis/redis-stack-server` with `loadmodule` lines when `modulesList` names modules): master + replica
when `replication`, placed by the cluster's policy with no two on one node. A sharded database (a Redis
Cluster) has a StatefulSet per shard instead, `<db>-shard-<i>`, so only a shard's own copies must be
on different nodes (3 replicated shards fit on 2 nodes) and a shard is added or removed as a whole
when `shardCount` changes (kube/driver.py, kube/shards.py); Service `<db>` on
`databasePort` selecting the current master (the services rigger labels it) and `<db>-headless`;
a PodDisruptionBudget; and, with `tlsMode` on, Secret `<db>-tls` (server certificate and key from the
cluster CA or the REC's `certificates.proxyCertificateSecretName` Secret, with `clientAuthenticationCertificates`
the client CA bundle; mounted 0400), a TLS port the
Service `<db>` sends clients to (the plain port stays for the probes, replicas and sentinels), and an
Ingress with TLS passthrough (SNI: the database's host) when the cluster routes through one. docs/tls.md.
"""
from __future__ import annotations

import hashlib

from access.plan import ADMIN_USER
from core.engines import version_key
from dataplane.certificates import ProvidedCertificate, serial_hex
from dataplane.cluster import MASTER
from kube import podspec
from kube.render import rigger
from kube.render.cluster import SENTINEL_PORT
from kube.render.exporter import exporter_container, metrics_service_port
from kube.render.inputs import DatabaseInputs
from kube.render.redis_scripts import REDIS_ALIVE, REDIS_HANDOVER, REDIS_READY, REDIS_START
from kube.render.tls_sentinels import group_name, watched_by_tls_group
from specs.cluster import ClusterSpec
from specs.database import DatabaseSpec, RedisConfig
from targets.modules import CATALOG as MODULES

INTERNAL_USER = ADMIN_USER  # the pods' own login, and the control plane's, whether the default user is on or off

REDIS_PORT = 6379
TLS_PORT = 6380
TLS_DIR = "/etc/redis-tls"
DEFAULT_DATABASE_PORT = REDIS_PORT
SHARD_COMPONENT = "shard"
SHARD_LABEL = "redis.io/shard"  # a sharded database's pods: the index of their shard

# Restart-only settings. `live.conf` (below) holds what CONFIG SET changes without a restart. The start
# script fills the {placeholders} (kube/render/redis_scripts.py). `bind * -::*`: IPv4 and, where the
# pod has it, IPv6. `repl-diskless-sync-delay 0` (as on the local target): a replica's full sync starts at once
# rather than after Redis's 5 s wait for more replicas to share it (a database has one or two replicas).
STATIC_CONFIG = """port {{port}}
bind * -::*
protected-mode no
repl-diskless-sync-delay 0
dir {{data_dir}}
replica-announce-ip {{announce}}
include {{conf_dir}}/live.conf
include {{run_dir}}/auth.conf
"""
# tlsMode on: clients reach the TLS port (the Service's target). Which files Redis loads is `tls.conf` in the
# mounted Secret <db>-tls (tls_settings): their names carry the certificate's serial and the client bundle's
# digest, so a renewal is new files that the control plane makes Redis load live with CONFIG SET (kube/driver.py).
# Whether clients must show a certificate stays here: turning mutual TLS on or off rolls the pods.
TLS_CONFIG = f"""tls-port {TLS_PORT}
include {TLS_DIR}/tls.conf
tls-auth-clients {{auth_clients}}
"""
# A sharded database with TLS: its cluster bus speaks TLS too, on TLS_PORT + 10000 (Redis derives it), and
# peers MEET it and MIGRATE to it at the TLS port (kube/dataplane.py); probes and scripts stay on the plain port.
TLS_CLUSTER_CONFIG = "tls-cluster yes\n"
# tlsMode replica_ssl (replicated, not sharded): a replica's link to its master is TLS, to the master's TLS port
# (REPLICATION_PORT), and a replica announces its TLS port; the cluster's TLS sentinel group watches it there.
TLS_REPLICATION_CONFIG = "tls-replication yes\n"
# A shard whose master stops answering for cluster-node-timeout is failed over by Redis Cluster itself.
CLUSTER_NODE_TIMEOUT_MS = 5000
SHARDED_CONFIG = ("cluster-enabled yes\ncluster-config-file {data_dir}/nodes.conf\n"
                  f"cluster-node-timeout {CLUSTER_NODE_TIMEOUT_MS}\n")
# Redis 6.2 has no cluster-announce-hostname: its nodes announce IP addresses.
ANNOUNCE_HOSTNAME = "cluster-announce-hostname {announce}\n"
# Redis' default hard limit of a replica's output buffer (client-output-buffer-limit replica).
REPLICA_BUFFER_BYTES = 256 * podspec.MI
BASE_OVERHEAD_BYTES = 64 * podspec.MI
# How long an empty pod waits for its peers to answer before it may start as the first master, when
# peers may hold data on their volumes (persistence on). Without persistence a peer that does not
# answer holds nothing, so there is nothing to wait for.
PEER_WAIT_SECONDS = 10
# How long a master's preStop waits for a replica to catch up (REDIS_HANDOVER); the grace period covers
# it plus Redis' own shutdown (it waits up to 10 s for lagging replicas).
HANDOVER_SECONDS = 20


def database_port(database) -> int:
    return database.typed_spec.port or DEFAULT_DATABASE_PORT


def internal_secret_name(database) -> str:
    """The Secret of the pods' own login (user INTERNAL_USER), referenced, never copied."""
    return f"{database.name}-internal"


def login_env(database, spec: DatabaseSpec) -> list[dict]:
    """How a pod's scripts, probes and sidecars log in to Redis: as INTERNAL_USER (REDIS_USER, REDIS_PASSWORD from
    Secret <db>-internal), whether the default user is on or off, so `defaultUser` changes live with no pod
    restart (docs/acl.md). REDISCLI_AUTH (redis-cli reads it itself: no password on a command line) is the
    default user's password from the database Secret, absent while the default user is off; the start script
    turns the default user on with it, or off without it. The same references in both cases: flipping
    `defaultUser` changes no pod template."""
    return [{"name": "REDIS_USER", "value": INTERNAL_USER},
            podspec.secret_env("REDIS_PASSWORD", internal_secret_name(database), "password"),
            {"name": "REDISCLI_AUTH", "valueFrom": {"secretKeyRef": {"name": spec.secret_name, "key": "password",
                                                                   "optional": True}}}]


def tls_secret_name(database) -> str:
    return f"{database.name}-tls"


def tls_files(database: DatabaseInputs) -> dict[str, str]:
    """The keys of Secret <db>-tls: the cluster CA, the server pair named by its serial, with mutual TLS the
    bundle of client CAs (the listed certificate secrets and the cluster CA) named by its digest, and tls.conf."""
    assert database.tls is not None
    try:
        stem = f"server-{serial_hex(database.tls.cert_pem)}"
    except ValueError:  # rendered without reading the REC's certificate Secret: its contents are named, not shown
        stem = "server"
    files = {"ca.crt": database.tls_ca, f"{stem}.crt": database.tls.cert_pem, f"{stem}.key": database.tls.key_pem}
    if database.client_cas:
        files[f"client-ca-{hashlib.sha256(database.client_cas.encode()).hexdigest()[:12]}.crt"] = database.client_cas
    files["tls.conf"] = "".join(f"{key} {value}\n" for key, value in tls_settings(files).items()
                                if key != "tls-auth-clients")
    return files


def tls_settings(files: dict[str, str]) -> dict[str, str]:
    """What Redis must have loaded for the Secret's files `files` (tls_files): the CONFIG SET that loads them."""
    stem = next(name for name in files if name.startswith("server") and name.endswith(".crt"))[:-len(".crt")]
    bundle = next((name for name in files if name.startswith("client-ca-")), "")
    return {"tls-cert-file": f"{TLS_DIR}/{stem}.crt", "tls-key-file": f"{TLS_DIR}/{stem}.key",
            "tls-ca-cert-file": f"{TLS_DIR}/{bundle or 'ca.crt'}", "tls-auth-clients": "yes" if bundle else "no"}


def client_port(spec: DatabaseSpec) -> int:
    """The container port the database Service sends clients to: the TLS port when TLS is on."""
    return TLS_PORT if spec.tls_mode != "disabled" else REDIS_PORT


def cluster_ports(spec: DatabaseSpec) -> tuple[int, int]:
    """The port a Redis Cluster node is met and migrated to at, and its bus port: the TLS ones with tls-cluster."""
    port = TLS_PORT if spec.tls_mode != "disabled" else REDIS_PORT
    return port, port + 10000


def service_names(database) -> list[str]:
    return [database.name, f"{database.name}-headless"]


def shard_selector(database) -> dict[str, str]:
    """Every shard pod of a database (all shards)."""
    return podspec.selector(database.cluster.name, component=SHARD_COMPONENT, database=database.name)


def shard_statefulset_name(database_name: str, index: int) -> str:
    """The StatefulSet of shard `index` of a sharded database."""
    return f"{database_name}-shard-{index}"


def statefulset_names(database) -> list[str]:
    """The StatefulSets a database's spec renders: `<db>`, or one per shard when sharded."""
    spec = database.typed_spec
    if not spec.is_cluster:
        return [database.name]
    return [shard_statefulset_name(database.name, i) for i in range(spec.shard_count)]


def shard_index(pod_or_statefulset: dict) -> int | None:
    """The shard an object of a sharded database belongs to (its label), None for the single-StatefulSet layout."""
    value = (pod_or_statefulset["metadata"].get("labels") or {}).get(SHARD_LABEL, "")
    return int(value) if value.isdigit() else None


def database_labels(database, component: str) -> dict[str, str]:
    extra = database.cluster.typed_spec.extra_labels
    return podspec.labels(database.cluster.name, component=component, database=database.name, extra=extra)


def live_config(config: RedisConfig) -> str:
    """redis.conf lines for the settings applied live with CONFIG SET (never a reason to restart)."""
    return "".join(f'{key} "{value}"\n' for key, value in config.as_config_set().items())


def static_config(spec: DatabaseSpec, version: str) -> str:
    text = STATIC_CONFIG.format()
    if spec.tls_mode != "disabled":
        text += TLS_CONFIG.format(auth_clients="yes" if spec.client_certificates else "no")
    if watched_by_tls_group(spec):
        text += TLS_REPLICATION_CONFIG
    if spec.is_cluster:
        text += SHARDED_CONFIG + (TLS_CLUSTER_CONFIG if spec.tls_mode != "disabled" else "")
        if version_key(version) >= version_key("7.0"):  # every Valkey version too
            text += ANNOUNCE_HOSTNAME
    text += "".join(f"loadmodule {podspec.STACK_MODULE_DIR}/{MODULES[name].library}\n" for name in spec.module_names)
    return text


def memory_limit_bytes(spec: DatabaseSpec) -> int:
    """What a shard process may really use: maxmemory, plus (when it forks for a snapshot or a full sync)
    copy-on-write up to its whole data set and a replica's output buffer, plus Redis' own overhead."""
    shard = spec.shard_memory_bytes
    forks = spec.replication or spec.persistence != "disabled"
    return shard + BASE_OVERHEAD_BYTES + ((shard + REPLICA_BUFFER_BYTES) if forks else shard // 4)


def sentinel_user(database) -> str:
    """The sentinel ACL user a database's pods ask who their master is (they hold no cluster password)."""
    return f"db-{database.name}"


def render_database(database, *, reveal_secrets: bool = True, provided: ProvidedCertificate | None = None
                    ) -> list[dict]:
    """Every manifest of a stored database, in apply order (`provided`: the REC's own server certificate)."""
    return database_manifests(DatabaseInputs.of(database, provided), reveal_secrets=reveal_secrets)


def database_manifests(database: DatabaseInputs, *, reveal_secrets: bool = True) -> list[dict]:
    """Every manifest of a database, in apply order."""
    spec = database.typed_spec
    cluster_spec = database.cluster.typed_spec
    name, namespace = database.name, database.namespace
    common = database_labels(database, "database")
    port = database_port(database)
    version = database.version
    # defaultUser: false: the database Secret holds no default password (as with the operator). The pods log in
    # as the control plane's own user, whose password only Secret <db>-internal holds.
    manifests = [
        podspec.secret(spec.secret_name, namespace, common, {
            "port": str(port),
            "service_names": ",".join(service_names(database)),
            **({"password": database.password} if spec.default_user else {}),
        }, reveal=reveal_secrets),
        podspec.secret(internal_secret_name(database), namespace, common, {
            "username": INTERNAL_USER, "password": database.internal_password}, reveal=reveal_secrets),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": podspec.metadata(f"{name}-config", namespace, common),
            "data": {"redis.conf": static_config(spec, version), "live.conf": live_config(spec.redis_config()),
                     "start.sh": REDIS_START, **({"rigger.sh": rigger.RIGGER_SCRIPT} if not spec.is_cluster else {})},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": podspec.metadata(name, namespace, common),
            "spec": {"type": "ClusterIP", "selector": {**shard_selector(database), podspec.ROLE_LABEL: MASTER},
                     "ports": [{"name": "redis", "port": port, "targetPort": client_port(spec)}]},
        },
        podspec.headless_service(f"{name}-headless", namespace, common, shard_selector(database),
                                 [*_ports(spec), metrics_service_port()]),
        *_statefulsets(database, spec, cluster_spec, version),
        podspec.disruption_budget(name, namespace, common, shard_selector(database), max_unavailable=1),
        _network_policy(database, spec, common),
    ]
    if database.tls is not None:
        manifests.insert(1, podspec.secret(tls_secret_name(database), namespace, common, tls_files(database),
                                           reveal=reveal_secrets))
        if cluster_spec.ingress:  # passthrough means something only when the database speaks TLS itself
            manifests.append(_ingress(database, cluster_spec, common, port))
    if not spec.is_cluster:  # the in-pod rigger's identity, before the pods that use it
        manifests[:0] = rigger.rbac(name, namespace, common, rigger.pod_names(name, spec.process_count))
    return manifests


def _ports(spec: DatabaseSpec) -> list[dict]:
    ports = [{"name": "redis", "port": REDIS_PORT, "targetPort": REDIS_PORT}]
    if spec.tls_mode != "disabled":
        ports.append({"name": "redis-tls", "port": TLS_PORT, "targetPort": TLS_PORT})
    if spec.is_cluster:
        bus = cluster_ports(spec)[1]
        ports.append({"name": "cluster-bus", "port": bus, "targetPort": bus})
    return ports


def _statefulsets(database, spec: DatabaseSpec, cluster_spec: ClusterSpec, version: str) -> list[dict]:
    if not spec.is_cluster:
        return [_statefulset(database, spec, cluster_spec, version, None)]
    return [_statefulset(database, spec, cluster_spec, version, index) for index in range(spec.shard_count)]


def _statefulset(database, spec: DatabaseSpec, cluster_spec: ClusterSpec, version: str, shard: int | None) -> dict:
    """The database's StatefulSet (`shard` None), or that of one shard of a sharded database."""
    cluster = database.cluster
    name = database.name if shard is None else shard_statefulset_name(database.name, shard)
    pod_labels = database_labels(database, SHARD_COMPONENT)
    pod_selector = shard_selector(database)
    if shard is not None:
        pod_labels[SHARD_LABEL] = pod_selector[SHARD_LABEL] = str(shard)
    domain = cluster.cluster_domain
    peer_domain = f"{headless_service_name_of(database)}.{database.namespace}.svc.{domain}"
    replicas = spec.process_count if shard is None else spec.processes_per_shard
    peers = " ".join(f"{name}-{i}.{peer_domain}:{REDIS_PORT}" for i in range(replicas))
    sentinel_service = group_name(cluster) if watched_by_tls_group(spec) else cluster.name
    container = {
        "name": "redis",
        "image": database.image,
        "command": ["sh", "/etc/redis/start.sh"],
        "env": [
            {"name": "DB_NAME", "value": database.name},
            {"name": "REDIS_PORT", "value": str(REDIS_PORT)},
            {"name": "PEER_DOMAIN", "value": peer_domain},
            {"name": "PEERS", "value": peers},
            {"name": "PEER_WAIT_SECONDS", "value": str(PEER_WAIT_SECONDS if spec.persistence != "disabled" else 0)},
            {"name": "SHARDED", "value": "yes" if spec.is_cluster else "no"},
            {"name": "SENTINEL_HOST", "value": f"{sentinel_service}.{cluster.namespace}.svc.{domain}"},
            {"name": "SENTINEL_PORT", "value": str(SENTINEL_PORT)},
            {"name": "SENTINEL_USER", "value": sentinel_user(database)},
            *login_env(database, spec),
            *([{"name": "REPLICATION_PORT", "value": str(TLS_PORT)}] if watched_by_tls_group(spec) else []),
        ],
        "ports": [{"name": p["name"], "containerPort": p["targetPort"]} for p in _ports(spec)],
        # Startup: up to 5 minutes to listen (the start-up guard may wait for peers); LOADING is alive. Asked
        # every second, so a pod (a new shard about to take slots) is ready within a second of listening.
        "startupProbe": podspec.exec_probe(REDIS_ALIVE, initial_delay=0, period=1, failures=300),
        "livenessProbe": podspec.exec_probe(REDIS_ALIVE, initial_delay=0, failures=3),
        "readinessProbe": podspec.exec_probe(REDIS_READY, initial_delay=0, period=5),
        # Requests match the memory the validator charged to the cluster; the limit covers what a fork
        # and a replica's buffer can add (memory_limit_bytes).
        "resources": {
            "requests": {"cpu": "100m", "memory": podspec.mebibytes(spec.shard_memory_bytes)},
            "limits": {"memory": podspec.mebibytes(memory_limit_bytes(spec))},
        },
        "securityContext": podspec.container_security(),
        "volumeMounts": [{"name": "config", "mountPath": "/etc/redis"}, {"name": "data", "mountPath": "/data"},
                         {"name": "run", "mountPath": "/run/redis"}],
    }
    volumes = [{"name": "config", "configMap": {"name": f"{database.name}-config"}}, podspec.run_volume()]
    if spec.tls_mode != "disabled":  # the key readable by the pod's user (and fsGroup) only
        volumes.append({"name": "tls", "secret": {"secretName": tls_secret_name(database), "defaultMode": 0o400}})
        container["volumeMounts"].append({"name": "tls", "mountPath": TLS_DIR, "readOnly": True})
    persistent = spec.persistence != "disabled"
    if not persistent:
        volumes.append({"name": "data", "emptyDir": {}})
    # One hash for every shard's pods (their peers are their own shard's): adding a shard rolls no pod.
    config_hash = podspec.content_hash(version, static_config(spec, version), REDIS_START, REDIS_ALIVE,
                                       REDIS_READY, peers if shard is None else "",
                                       login_env(database, spec))
    pod_spec = {
        "containers": [container, exporter_container(REDIS_PORT, [
            e for e in login_env(database, spec) if e["name"] != "REDISCLI_AUTH"])],
        "volumes": volumes,
        "automountServiceAccountToken": False,
        "securityContext": podspec.pod_security(),
        # No two copies of one shard on one node (a sharded database's shards may share nodes).
        **podspec.placement(cluster_spec, pod_selector, spread_required=True),
    }
    if not spec.is_cluster:
        config_hash = podspec.content_hash(config_hash, rigger.RIGGER_SCRIPT, REDIS_HANDOVER, HANDOVER_SECONDS)
        _add_in_pod_rigger(database, container, pod_spec)
    podspec.pull_options(cluster_spec, pod_spec)
    claims = [podspec.volume_claim("data", cluster_spec, pod_labels)] if persistent else []
    # The control plane rolls replicas first and the master last (kube/rollout.py).
    return podspec.statefulset(
        podspec.metadata(name, database.namespace, pod_labels),
        replicas=replicas, service_name=headless_service_name_of(database),
        pod_selector=pod_selector, pod_labels=pod_labels, config_hash=config_hash, pod_spec=pod_spec,
        claims=claims,
    )


def _add_in_pod_rigger(database, container: dict, pod_spec: dict) -> None:
    """High availability inside the cluster (sentinel-watched databases): the `rigger` sidecar labels its pod
    master or replica as the sentinels and Redis say (kube/render/rigger.py) with the pod's own ServiceAccount,
    and a master's preStop hands over to a caught-up replica before it stops (REDIS_HANDOVER)."""
    shared = {"DB_NAME", "REDIS_PORT", "PEER_DOMAIN", "SENTINEL_HOST", "SENTINEL_PORT", "SENTINEL_USER",
              "REDIS_USER", "REDIS_PASSWORD"}
    container["env"].append({"name": "HANDOVER_SECONDS", "value": str(HANDOVER_SECONDS)})
    container["lifecycle"] = {"preStop": {"exec": {"command": ["sh", "-c", REDIS_HANDOVER]}}}
    pod_spec["containers"].append(rigger.rigger_container(
        database.cluster.typed_spec.rigger_image, [dict(e) for e in container["env"] if e["name"] in shared]))
    pod_spec["volumes"].append(rigger.rigger_volume())
    pod_spec.update({"serviceAccountName": database.name, "automountServiceAccountToken": True,
                     "terminationGracePeriodSeconds": HANDOVER_SECONDS + 20})


def _network_policy(database, spec: DatabaseSpec, common: dict) -> dict:
    """Who may reach a database's pods: any pod of its namespace (clients, the sentinels) on the Redis
    port, and its own pods on the Redis and cluster-bus ports. Anything else is refused once a
    NetworkPolicy selects the pods (policies add up: allow more with another policy)."""
    own = [{"protocol": "TCP", "port": p["targetPort"]} for p in _ports(spec)]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": podspec.metadata(database.name, database.namespace, common),
        "spec": {
            "podSelector": {"matchLabels": shard_selector(database)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": p}
                                                          for p in sorted({REDIS_PORT, client_port(spec)})]},
                {"from": [{"podSelector": {"matchLabels": shard_selector(database)}}], "ports": own},
            ],
        },
    }


def headless_service_name_of(database) -> str:
    return f"{database.name}-headless"


def _ingress(database, cluster_spec: ClusterSpec, common: dict, port: int) -> dict:
    ingress = cluster_spec.ingress or {}
    annotations = dict(ingress.get("ingressAnnotations") or {})
    annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] = "true"  # the SNI host picks the database
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

