"""What rendering needs, resolved from the rows once: typed specs, names, the image version, secrets.

`kube/render/cluster.py` and `kube/render/database.py` are pure functions of these (no model, no
target settings, no I/O), so "what a database becomes in Kubernetes" can be read, and tested, from
its typed spec alone. `of(row)` is the one place that looks at the rows and the target.
"""
from __future__ import annotations

from dataclasses import dataclass

from kube import podspec
from kube.versions import resolve_version, stack_tags
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
    cluster_domain: str = podspec.DEFAULT_CLUSTER_DOMAIN  # the target's DNS domain (settings["cluster_domain"])

    @classmethod
    def of(cls, cluster) -> ClusterInputs:
        spec = cluster.typed_spec
        return cls(name=cluster.name, namespace=cluster.namespace, typed_spec=spec,
                   version=resolve_version(spec.redis_version, cluster.target),
                   admin_username=cluster.admin_username, admin_password=cluster.admin_password,
                   cluster_domain=podspec.cluster_domain(cluster.target))


@dataclass(frozen=True)
class DatabaseInputs:
    name: str
    namespace: str
    typed_spec: DatabaseSpec
    version: str
    image: str  # the stock image of the version, or the redis-stack-server image when modules are listed
    password: str  # rendered into Secret `redb-<db>` only when secrets are revealed
    cluster: ClusterInputs

    @classmethod
    def of(cls, database) -> DatabaseInputs:
        spec = database.typed_spec
        target = database.cluster.target
        version = resolve_version(spec.redis_version, target)
        return cls(name=database.name, namespace=database.namespace, typed_spec=spec, version=version,
                   image=image_of(spec, version, target, database.cluster.typed_spec.image_repository),
                   password=database.password,
                   cluster=ClusterInputs.of(database.cluster))


def image_of(spec: DatabaseSpec, version: str, target, repository: str | None = None) -> str:
    """The stock image of the version (from the cluster's Redis `repository` when set); the redis-stack-server
    image when the database lists modules."""
    tag = stack_tags(target).get(version) if spec.module_names else None
    return podspec.stack_image(tag) if tag else podspec.image(version, repository)
