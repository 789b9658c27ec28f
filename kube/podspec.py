"""What cluster (REC) and database (REDB) manifests share: labels, placement, probes, volumes.

Both renderers (`kube/render/cluster.py`, `kube/render/database.py`) build their pods from these pieces,
so a label or placement rule is written once.
"""
from __future__ import annotations

import hashlib
import json
import math

from core.engines import VALKEY, engine_of, number_of
from core.quantity import parse_memory
from operatorapi.images import reference
from specs.cluster import ClusterSpec

MANAGED_BY = "redis-controlplane"
APP = "redis-enterprise"
CLUSTER_LABEL = "redis.io/cluster"
DATABASE_LABEL = "redis.io/database"
ROLE_LABEL = "redis.io/role"
COMPONENT_LABEL = "app.kubernetes.io/component"
CONFIG_HASH_ANNOTATION = "redis.io/config-hash"
REDIS_IMAGE = "redis"
VALKEY_IMAGE = "valkey/valkey"
REDIS_STACK_IMAGE = "redis/redis-stack-server"
STACK_MODULE_DIR = "/opt/redis-stack/lib"
MI = 1024**2
# The `redis` user of the stock image. The image's entrypoint would switch to it; our `command`
# replaces the entrypoint, so the pod runs as it from the start.
REDIS_UID = 999
DEFAULT_CLUSTER_DOMAIN = "cluster.local"


def labels(cluster_name: str, *, component: str, database: str | None = None,
           extra: dict | None = None) -> dict[str, str]:
    """The labels every object carries; `extra` (REC `extraLabels`) never overrides ours."""
    result = dict(extra or {})
    result.update({
        "app.kubernetes.io/name": "redis",
        "app.kubernetes.io/instance": database or cluster_name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        COMPONENT_LABEL: component,
        "app": APP,
        CLUSTER_LABEL: cluster_name,
    })
    if database:
        result[DATABASE_LABEL] = database
    return result


def selector(cluster_name: str, *, component: str, database: str | None = None) -> dict[str, str]:
    """Pod selector of a StatefulSet: immutable, so only labels that never change."""
    result = {"app": APP, CLUSTER_LABEL: cluster_name, COMPONENT_LABEL: component}
    if database:
        result[DATABASE_LABEL] = database
    return result


def metadata(name: str, namespace: str, object_labels: dict, annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": namespace, "labels": dict(object_labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def image(version: str, repository: str | None = None, digest: str | None = None) -> str:
    """The stock image of a version: redis:7.2, or valkey/valkey:9.1 for valkey-9.1 (core/engines.py).
    `repository` (the REC's `redisEnterpriseImageSpec.repository`) replaces `redis`, e.g. a mirror in a
    private registry; `digest` pins the exact image (the quorum's, `digestHash`)."""
    if engine_of(version) == VALKEY:
        return f"{VALKEY_IMAGE}:{number_of(version)}"
    return reference(repository or REDIS_IMAGE, version, digest)


def pull_options(cluster: ClusterSpec, pod_spec: dict) -> None:
    """The cluster's `pullSecrets` on a pod spec and its `imagePullPolicy` on every container without one."""
    if cluster.pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": name} for name in cluster.pull_secrets]
    if cluster.image_pull_policy:
        for container in pod_spec["containers"]:
            container.setdefault("imagePullPolicy", cluster.image_pull_policy)


def stack_image(tag: str) -> str:
    """The Redis Stack image (Redis with its modules under STACK_MODULE_DIR)."""
    return f"{REDIS_STACK_IMAGE}:{tag}"


def mebibytes(nbytes: int) -> str:
    """A Kubernetes memory quantity, rounded up to Mi, in the canonical form the API server returns
    (1024Mi comes back as 1Gi), so live and rendered values compare equal and never look like drift."""
    value, unit = max(1, math.ceil(nbytes / MI)), "Mi"
    for bigger in ("Gi", "Ti", "Pi"):
        if value % 1024:
            break
        value, unit = value // 1024, bigger
    return f"{value}{unit}"


def cluster_domain(target) -> str:
    """The target's DNS domain for Services (`settings["cluster_domain"]`, cluster.local by default)."""
    return (getattr(target, "settings", None) or {}).get("cluster_domain") or DEFAULT_CLUSTER_DOMAIN


def pod_security() -> dict:
    """Pod securityContext meeting Pod Security "restricted": non-root, volumes group-owned by redis."""
    return {"runAsNonRoot": True, "runAsUser": REDIS_UID, "runAsGroup": REDIS_UID, "fsGroup": REDIS_UID,
            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}


def container_security() -> dict:
    """Container securityContext meeting Pod Security "restricted"; the root filesystem stays read-only
    (Redis writes only to its data volume and `/run/redis`)."""
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True}


def run_volume() -> dict:
    """`/run/redis`: the generated config and password file, in memory, writable by the pod's user."""
    return {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}


def content_hash(*parts: object) -> str:
    """A short stable hash of rendered content, for pod-template and applied-state annotations."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:16]


def placement(cluster: ClusterSpec, pod_selector: dict[str, str], *, spread_required: bool) -> dict:
    """Pod-spec fields placing pods per the cluster's policy.

    `spread_required`: no two pods of `pod_selector` on one Kubernetes node (nor zone, with rack
    awareness) — quorum members, and a database's master and replica.
    """
    spec: dict = {}
    if cluster.node_selector:
        spec["nodeSelector"] = dict(cluster.node_selector)
    if cluster.tolerations:
        spec["tolerations"] = list(cluster.tolerations)
    if cluster.priority_class:
        spec["priorityClassName"] = cluster.priority_class
    if cluster.pod_anti_affinity is not None:
        anti_affinity = dict(cluster.pod_anti_affinity)
    else:
        keys = ["kubernetes.io/hostname"] + ([cluster.rack_awareness_label] if cluster.rack_awareness_label else [])
        terms = [{"labelSelector": {"matchLabels": dict(pod_selector)}, "topologyKey": key} for key in keys]
        if spread_required:
            anti_affinity = {"requiredDuringSchedulingIgnoredDuringExecution": terms}
        else:
            anti_affinity = {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": term} for term in terms]}
    spec["affinity"] = {"podAntiAffinity": anti_affinity}
    if cluster.rack_awareness_label:
        spec["topologySpreadConstraints"] = [{
            "maxSkew": 1,
            "topologyKey": cluster.rack_awareness_label,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": dict(pod_selector)},
        }]
    return spec


def statefulset(metadata: dict, *, replicas: int, service_name: str, pod_selector: dict, pod_labels: dict,
                config_hash: str, pod_spec: dict, claims: list[dict]) -> dict:
    """A StatefulSet whose pods the control plane replaces itself, one at a time, in the order its rollout
    plan (kube/rollout.py) chooses: `OnDelete`, and the config hash in the template so only a rendered
    config change rolls pods."""
    spec = {
        "replicas": replicas,
        "serviceName": service_name,
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "OnDelete"},
        "selector": {"matchLabels": pod_selector},
        "template": {
            "metadata": {"labels": pod_labels, "annotations": {CONFIG_HASH_ANNOTATION: config_hash}},
            "spec": pod_spec,
        },
    }
    if claims:
        spec["volumeClaimTemplates"] = claims
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata, "spec": spec}


def exec_probe(command: str, *, initial_delay: int, period: int = 10, failures: int = 3) -> dict:
    return {
        "exec": {"command": ["sh", "-c", command]},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def secret_env(name: str, secret: str, key: str) -> dict:
    """An environment variable read from a Secret: passwords never appear in a pod spec."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def volume_claim(name: str, cluster: ClusterSpec, object_labels: dict) -> dict:
    """A volumeClaimTemplate from the cluster's persistentSpec."""
    spec: dict = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": mebibytes(parse_memory(cluster.volume_size))}},
    }
    if cluster.storage_class:
        spec["storageClassName"] = cluster.storage_class
    return {"metadata": {"name": name, "labels": dict(object_labels)}, "spec": spec}


def headless_service(name: str, namespace: str, object_labels: dict, pod_selector: dict,
                     ports: list[dict]) -> dict:
    """The governing Service of a StatefulSet: stable DNS names per pod, ready or not."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, namespace, object_labels),
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": dict(pod_selector),
                 "ports": ports},
    }


def disruption_budget(name: str, namespace: str, object_labels: dict, pod_selector: dict, *,
                      min_available: int | None = None, max_unavailable: int | None = None) -> dict:
    spec: dict = {"selector": {"matchLabels": dict(pod_selector)}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": metadata(name, namespace, object_labels), "spec": spec}


def secret(name: str, namespace: str, object_labels: dict, values: dict[str, str], *, reveal: bool) -> dict:
    """A Secret in `stringData` form; values shown as "<redacted>" unless `reveal`."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(name, namespace, object_labels),
        "type": "Opaque",
        "stringData": {key: (value if reveal else "<redacted>") for key, value in values.items()},
    }
