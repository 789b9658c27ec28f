"""The Kubernetes permissions the control plane needs: one definition for `target check` and the ClusterRole.

Derived from what the code does (kube/apply.py, kube/driver.py, kube/live.py, kube/rigger.py,
kube/crsync/): server-side apply of every rendered kind (create + patch), cluster-wide lists for the
periodic pass, watches of the owned kinds and of the REC/REDB custom resources, deletes when pruning,
pod label patches and pod deletion for rollouts, claim patches for volume expansion, storage class
reads, and the custom resources' status subresource. Creating the quorum pods' Role and the
database pods' Role (their in-pod rigger) also needs every permission those Roles grant (the API
server refuses to let anyone grant what it does not hold).
`deploy/kubernetes/rbac.yaml` must equal `cluster_role_rules()`; tests/deploy checks it.
"""
from __future__ import annotations

from dataclasses import dataclass

from kube.render.cluster import SENTINEL_ROLE_RULES
from kube.render.rigger import DATABASE_POD_ROLE_RULES

from .client import KINDS

MANAGE = ("get", "list", "create", "patch", "delete")
WATCHED = (*MANAGE, "watch")  # kinds the watcher follows (kube/crsync/watch.py)
VERBS: dict[str, tuple[str, ...]] = {
    "Namespace": ("get", "create", "patch"),
    "ServiceAccount": MANAGE,
    "Role": MANAGE,
    "RoleBinding": MANAGE,
    "Secret": WATCHED,
    "ConfigMap": MANAGE,
    "Service": WATCHED,
    "StatefulSet": WATCHED,
    "PodDisruptionBudget": MANAGE,
    "ResourceQuota": MANAGE,
    "Ingress": MANAGE,
    "NetworkPolicy": MANAGE,
    "Pod": ("get", "list", "watch", "patch", "delete"),
    "PersistentVolumeClaim": ("get", "list", "patch", "delete"),
    "StorageClass": ("get", "list"),
    # Where the Prometheus operator's CRDs exist (kube/render/monitoring.py); harmless where they do not.
    "ServiceMonitor": MANAGE,
    "PrometheusRule": MANAGE,
    "RedisEnterpriseCluster": WATCHED,
    "RedisEnterpriseDatabase": WATCHED,
    # Users, roles, role bindings, ACLs: kept in step both ways like the REC/REDB (kube/crsync/access.py).
    **{kind: WATCHED for kind in ("RedisEnterpriseACL", "RedisEnterpriseRole", "RedisEnterpriseUser",
                                  "RedisEnterpriseRoleBinding")},
}
# Subresources written: the REC/REDB status.
SUBRESOURCES: dict[str, tuple[str, ...]] = {
    f"{kind}/status": ("patch",) for kind in ("RedisEnterpriseCluster", "RedisEnterpriseDatabase",
                                              "RedisEnterpriseACL", "RedisEnterpriseRole", "RedisEnterpriseUser",
                                              "RedisEnterpriseRoleBinding")}


@dataclass(frozen=True, order=True)
class Permission:
    group: str  # "" for the core group
    resource: str
    verb: str

    def __str__(self) -> str:
        return f"{self.verb} {self.resource}" + (f".{self.group}" if self.group else "")


def _group(kind: str) -> str:
    prefix = KINDS[kind].prefix
    return "" if prefix == "api/v1" else prefix.split("/")[1]


def required_permissions() -> list[Permission]:
    """Every (group, resource, verb) the control plane uses, cluster-wide, sorted."""
    found = {Permission(_group(kind), KINDS[kind].plural, verb) for kind, verbs in VERBS.items() for verb in verbs}
    for path, verbs in SUBRESOURCES.items():
        kind, sub = path.split("/")
        found |= {Permission(_group(kind), f"{KINDS[kind].plural}/{sub}", verb) for verb in verbs}
    for rule in (*SENTINEL_ROLE_RULES, *DATABASE_POD_ROLE_RULES):
        found |= {Permission(group, resource, verb) for group in rule["apiGroups"]
                  for resource in rule["resources"] for verb in rule["verbs"]}
    return sorted(found)


def cluster_role_rules() -> list[dict]:
    """`required_permissions()` as ClusterRole rules: one rule per API group and set of verbs."""
    by_resource: dict[tuple[str, str], set[str]] = {}
    for permission in required_permissions():
        by_resource.setdefault((permission.group, permission.resource), set()).add(permission.verb)
    rules: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (group, resource), verbs in sorted(by_resource.items()):
        rules.setdefault((group, tuple(sorted(verbs))), []).append(resource)
    return [{"apiGroups": [group], "resources": resources, "verbs": list(verbs)}
            for (group, verbs), resources in sorted(rules.items())]
