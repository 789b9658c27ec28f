"""The cluster's TLS-speaking sentinel group (`tlsMode: replica_ssl`, docs/tls.md), while such a database exists.

`tls-replication yes` makes a sentinel's every outgoing link TLS: to the shards (MONITORed at their TLS port,
where replicas with `tls-replication yes` announce themselves too) and to its peers, which it reaches at the
TLS port each announces (`sentinel announce-port`). The plain port stays for the questions of the pods' start
scripts, their riggers and the control plane, as with the plain group. Objects: StatefulSet, Service and
headless Service `<rec>-tls`/`<rec>-tls-headless`, ConfigMap `<rec>-sentinel-tls` (the TLS lines, then the plain
group's start script) and Secret `<rec>-sentinel-tls` (a cluster-CA certificate, 0400).
"""
from __future__ import annotations

from django.conf import settings

from clusters.certificates import ca_certificate, server_certificate
from dataplane.certificates import KeyPair
from kube import podspec
from kube.render.cluster import SENTINEL_PORT, cluster_labels, cluster_manifests, quorum_statefulset
from kube.render.inputs import ClusterInputs
from specs.database import DatabaseSpec

TLS_SENTINEL_PORT = 26380
TLS_COMPONENT = "quorum-tls"
CERT_DIR = "/etc/sentinel-certs"
# Written only when the sentinel has no config yet (it rewrites its own file: what it learnt stays).
TLS_SENTINEL_START = f"""set -eu
conf=/data/sentinel.conf
if [ ! -f "$conf" ]; then
  umask 077
  printf 'port %s\\ntls-port %s\\ntls-cert-file {CERT_DIR}/tls.crt\\ntls-key-file {CERT_DIR}/tls.key\\n' \\
    "$SENTINEL_PORT" "$TLS_SENTINEL_PORT" > "$conf"
  printf 'tls-ca-cert-file {CERT_DIR}/ca.crt\\ntls-replication yes\\nsentinel announce-port %s\\n' \\
    "$TLS_SENTINEL_PORT" >> "$conf"
  printf 'dir /data\\nsentinel resolve-hostnames yes\\nsentinel announce-hostnames yes\\n' >> "$conf"
fi
exec sh /etc/sentinel/start.sh
"""
# The key under which the cluster CA's certificate for this group is stored (no database name has a `_`).
CERTIFICATE_KEY = "_sentinels-tls"


def watched_by_tls_group(spec: DatabaseSpec) -> bool:
    """A replicated, non-sharded replica_ssl database: its replication is TLS, so its sentinels speak TLS."""
    return spec.tls_mode == "replica_ssl" and spec.replication and not spec.is_cluster


def needs_tls_group(cluster) -> bool:
    """The stored cluster has a database the TLS group watches."""
    return any(watched_by_tls_group(database.typed_spec) for database in cluster.databases.all())


def render_cluster(cluster, *, reveal_secrets: bool = True) -> list[dict]:
    """Every manifest of a stored cluster, in apply order: its own, and its TLS group's while it needs one."""
    inputs = ClusterInputs.of(cluster)
    if not needs_tls_group(cluster):
        return cluster_manifests(inputs, reveal_secrets=reveal_secrets)
    return (cluster_manifests(inputs, reveal_secrets=reveal_secrets, quorum_groups=2)
            + render_tls_group(cluster, inputs, reveal_secrets=reveal_secrets))


def render_tls_group(cluster, inputs: ClusterInputs, *, reveal_secrets: bool = True) -> list[dict]:
    """The TLS group of a stored cluster, its certificate issued by the cluster CA (renewed like a database's)."""
    pair = server_certificate(cluster, CERTIFICATE_KEY, certificate_names(inputs),
                              window_days=settings.CONTROLPLANE_TLS_RENEW_DAYS)
    return tls_sentinel_manifests(inputs, pair, ca_certificate(cluster), reveal_secrets=reveal_secrets)


def group_name(cluster) -> str:
    return f"{cluster.name}-tls"


def headless_name(cluster) -> str:
    return f"{cluster.name}-tls-headless"


def secret_name(cluster) -> str:
    return f"{cluster.name}-sentinel-tls"


def tls_sentinel_hosts(cluster) -> list[str]:
    domain = f"{headless_name(cluster)}.{cluster.namespace}.svc.{cluster.cluster_domain}"
    return [f"{group_name(cluster)}-{i}.{domain}" for i in range(cluster.typed_spec.nodes)]


def certificate_names(cluster: ClusterInputs) -> list[str]:
    domain = f"{cluster.namespace}.svc.{cluster.cluster_domain}"
    return [f"{group_name(cluster)}.{domain}", f"*.{headless_name(cluster)}.{domain}", "localhost", "127.0.0.1"]


def tls_sentinel_manifests(cluster: ClusterInputs, pair: KeyPair, ca_pem: str, *,
                           reveal_secrets: bool = True) -> list[dict]:
    """The TLS group's objects, in apply order."""
    name, namespace = group_name(cluster), cluster.namespace
    common = cluster_labels(cluster, "cluster")
    selector = podspec.selector(cluster.name, component=TLS_COMPONENT)
    ports = [{"name": "sentinel", "port": SENTINEL_PORT, "targetPort": SENTINEL_PORT},
             {"name": "sentinel-tls", "port": TLS_SENTINEL_PORT, "targetPort": TLS_SENTINEL_PORT}]
    statefulset = quorum_statefulset(
        cluster, cluster.typed_spec, name=name, component=TLS_COMPONENT, headless=headless_name(cluster),
        script="/etc/sentinel-tls/start.sh",
        extra_env=({"name": "TLS_SENTINEL_PORT", "value": str(TLS_SENTINEL_PORT)},),
        extra_ports=({"name": "sentinel-tls", "containerPort": TLS_SENTINEL_PORT},),
        extra_mounts=({"name": "start-tls", "mountPath": "/etc/sentinel-tls"},
                      {"name": "certs", "mountPath": CERT_DIR, "readOnly": True}),
        extra_volumes=({"name": "start-tls", "configMap": {"name": secret_name(cluster)}},
                       {"name": "certs", "secret": {"secretName": secret_name(cluster), "defaultMode": 0o400}}),
        hash_parts=(TLS_SENTINEL_START,))
    return [
        podspec.secret(secret_name(cluster), namespace, common,
                       {"ca.crt": ca_pem, "tls.crt": pair.cert_pem, "tls.key": pair.key_pem}, reveal=reveal_secrets),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": podspec.metadata(secret_name(cluster), namespace, common),
         "data": {"start.sh": TLS_SENTINEL_START}},
        {"apiVersion": "v1", "kind": "Service", "metadata": podspec.metadata(name, namespace, common),
         "spec": {"type": "ClusterIP", "selector": selector, "ports": [ports[0]]}},
        podspec.headless_service(headless_name(cluster), namespace, common, selector, ports),
        statefulset,
    ]
