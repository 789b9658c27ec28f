"""What rendering needs, resolved from the rows once: typed specs, names, the image version, secrets.

`kube/render/cluster.py` and `kube/render/database.py` are pure functions of these (no model, no
target settings, no I/O), so "what a database becomes in Kubernetes" can be read, and tested, from
its typed spec alone. `of(row)` is the one place that looks at the rows and the target.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings

from access.internal import admin_password
from clusters.certificates import ca_certificate, server_certificate
from dataplane.certificates import KeyPair, ProvidedCertificate
from kube import podspec
from kube.versions import resolve_version, stack_tags
from specs.cluster import ClusterSpec
from specs.database import DatabaseSpec
from targets.certificates import certificate_bundle


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
    # tlsMode on: the server certificate (its key rendered only when secrets are revealed) and the CA's
    tls: KeyPair | None = None
    tls_ca: str = ""
    # mutual TLS: the listed certificate secrets and the cluster CA (the control plane's own checks), one bundle
    client_cas: str = ""
    # the password of the pods' (and the control plane's) own user, rendered into Secret <db>-internal when revealed
    internal_password: str = ""

    @classmethod
    def of(cls, database, provided: ProvidedCertificate | None = None) -> DatabaseInputs:
        """`provided`: the certificate the REC's `certificates.proxyCertificateSecretName` names, as the driver
        read it (rendering reads no Secret: without it, Secret `<db>-tls` shows where its content comes from)."""
        spec = database.typed_spec
        cluster = database.cluster
        target = cluster.target
        version = resolve_version(spec.redis_version, target)
        clustered = ClusterInputs.of(cluster)
        tls, tls_ca = None, ""
        own = cluster.typed_spec.proxy_certificate_secret
        if spec.tls_mode != "disabled" and provided is not None:
            tls, tls_ca = provided.pair, provided.ca_pem
        elif spec.tls_mode != "disabled" and own:
            tls, tls_ca = KeyPair(f"<from secret {own}>", f"<from secret {own}>"), f"<from secret {own}>"
        elif spec.tls_mode != "disabled":
            tls = server_certificate(cluster, database.name, tls_names(database.name, clustered, spec),
                                     window_days=settings.CONTROLPLANE_TLS_RENEW_DAYS)
            tls_ca = ca_certificate(cluster)
        return cls(name=database.name, namespace=database.namespace, typed_spec=spec, version=version,
                   image=image_of(spec, version, target, cluster.typed_spec.image_repository),
                   password=database.password, cluster=clustered, tls=tls, tls_ca=tls_ca,
                   client_cas=client_bundle(spec, ca_certificate(cluster)) if tls else "",
                   internal_password=internal_password(database))


def internal_password(database) -> str:
    """The stored password of the control plane's own user on `database` (one for this rendering when unsaved)."""
    return admin_password(database) if database.pk is not None else secrets.token_urlsafe(24)


def client_bundle(spec: DatabaseSpec, ca_pem: str) -> str:
    """Mutual TLS: the certificates of the listed certificate secrets, then the cluster CA ("" without the list)."""
    listed = certificate_bundle(spec.client_certificates) if spec.client_certificates else ""
    return listed.rstrip("\n") + "\n" + ca_pem if listed else ""


def tls_names(name: str, cluster: ClusterInputs, spec: DatabaseSpec) -> list[str]:
    """The names a database's server certificate holds: its Service in every DNS form, its pods, the
    Ingress host (SNI) when the cluster has one, and loopback (probes, port-forward)."""
    namespace, domain = cluster.namespace, cluster.cluster_domain
    names = [name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.{domain}",
             f"*.{name}-headless.{namespace}.svc.{domain}", "localhost", "127.0.0.1"]
    ingress = cluster.typed_spec.ingress
    if ingress:
        names.insert(4, f"{name}{ingress.get('dbFqdnSuffix', '')}")
    return names


def image_of(spec: DatabaseSpec, version: str, target, repository: str | None = None) -> str:
    """The stock image of the version (from the cluster's Redis `repository` when set); the redis-stack-server
    image when the database lists modules."""
    tag = stack_tags(target).get(version) if spec.module_names else None
    return podspec.stack_image(tag) if tag else podspec.image(version, repository)
