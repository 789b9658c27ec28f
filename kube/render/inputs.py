"""What rendering needs, resolved from the rows once: typed specs, names, the image version, secrets.

`kube/render/cluster.py` and `kube/render/database.py` are pure functions of these (no model, no
target settings, no I/O), so "what a database becomes in Kubernetes" can be read, and tested, from
its typed spec alone. `of(row)` is the one place that looks at the rows and the target.
"""
from __future__ import annotations

from dataclasses import dataclass

from kube.podspec import DEFAULT_CLUSTER_DOMAIN, cluster_domain
from kube.versions import resolve_version
from specs.cluster import ClusterSpec
from specs.database import DatabaseSpec


@dataclass(frozen=True)
class ClusterInputs:
    name: str
    namespace: str
    typed_spec: ClusterSpec
    version: str  # the Redis image tag the quorum runs (the spec's, or the target's newest)
    admin_username: str
    admin_password: str  # rendered into Secret `<rec>` only when secrets are revealed
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN  # the target's DNS domain (settings["cluster_domain"])

    @classmethod
    def of(cls, cluster) -> ClusterInputs:
        spec = cluster.typed_spec
        return cls(name=cluster.name, namespace=cluster.namespace, typed_spec=spec,
                   version=resolve_version(spec.redis_version, cluster.target),
                   admin_username=cluster.admin_username, admin_password=cluster.admin_password,
                   cluster_domain=cluster_domain(cluster.target))


@dataclass(frozen=True)
class DatabaseInputs:
    name: str
    namespace: str
    typed_spec: DatabaseSpec
    version: str
    password: str  # rendered into Secret `redb-<db>` only when secrets are revealed
    cluster: ClusterInputs

    @classmethod
    def of(cls, database) -> DatabaseInputs:
        spec = database.typed_spec
        cluster = ClusterInputs.of(database.cluster)
        return cls(name=database.name, namespace=database.namespace, typed_spec=spec,
                   version=resolve_version(spec.redis_version, database.cluster.target),
                   password=database.password, cluster=cluster)
