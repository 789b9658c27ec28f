"""The per-cluster CA: made the first time a TLS database of the cluster needs it, stored encrypted on the
cluster row, and never shown back but its certificate (what clients put in `--cacert`). On Kubernetes the
server certificates it signs are kept there too (`servers`), so rendering stays a function of stored state:
the same certificate until it is due for renewal."""
from __future__ import annotations

import json

from django.db import transaction

from dataplane.certificates import KeyPair, new_ca, new_server_certificate, renewal_due, signed_by

from .models import Cluster


def cluster_ca(cluster: Cluster) -> KeyPair:
    """The cluster's CA, created (once, under a row lock so two workers cannot make two) when missing."""
    if cluster.tls_ca:
        return _parse(cluster.tls_ca)
    if cluster.pk is None:  # rendered, never stored (`manage.py render`): a CA for this rendering only
        ca = new_ca(f"{cluster.name} cluster CA")
        cluster.tls_ca = json.dumps({"cert": ca.cert_pem, "key": ca.key_pem})
        return ca
    with transaction.atomic():
        row = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if not row.tls_ca:
            ca = new_ca(f"{cluster.name} cluster CA")
            row.tls_ca = json.dumps({"cert": ca.cert_pem, "key": ca.key_pem})
            Cluster.objects.filter(pk=row.pk).update(tls_ca=row.tls_ca)
    cluster.tls_ca = row.tls_ca
    return _parse(row.tls_ca)


def server_certificate(cluster: Cluster, database_name: str, names: list[str], *, window_days: int) -> KeyPair:
    """The database's server certificate signed by the cluster CA: the stored one, or a new one when there is
    none, it is due for renewal, or it names other hosts (made under the cluster row's lock)."""
    ca = cluster_ca(cluster)
    stored = json.loads(cluster.tls_ca).get("servers", {}).get(database_name)
    if _usable(stored, ca, names, window_days):
        return KeyPair(stored["cert"], stored["key"])
    if cluster.pk is None:  # rendered, never stored
        pair = new_server_certificate(ca, database_name, names)
        data = json.loads(cluster.tls_ca)
        data.setdefault("servers", {})[database_name] = {"cert": pair.cert_pem, "key": pair.key_pem, "names": names}
        cluster.tls_ca = json.dumps(data)
        return pair
    with transaction.atomic():
        row = Cluster.objects.select_for_update().get(pk=cluster.pk)
        data = json.loads(row.tls_ca)
        stored = data.setdefault("servers", {}).get(database_name)
        if not _usable(stored, ca, names, window_days):
            pair = new_server_certificate(ca, database_name, names)
            stored = data["servers"][database_name] = {"cert": pair.cert_pem, "key": pair.key_pem, "names": names}
            Cluster.objects.filter(pk=row.pk).update(tls_ca=json.dumps(data))
            cluster.tls_ca = json.dumps(data)
    return KeyPair(stored["cert"], stored["key"])


def forget_server_certificate(cluster: Cluster, database_name: str) -> None:
    """A deleted database's certificate goes with it."""
    with transaction.atomic():
        row = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if not row.tls_ca:
            return
        data = json.loads(row.tls_ca)
        if data.get("servers", {}).pop(database_name, None) is not None:
            Cluster.objects.filter(pk=row.pk).update(tls_ca=json.dumps(data))


def _usable(stored: dict | None, ca: KeyPair, names: list[str], window_days: int) -> bool:
    return bool(stored) and stored.get("names") == names and signed_by(stored["cert"], ca.cert_pem) \
        and not renewal_due(stored["cert"], window_days=window_days)


def ca_certificate(cluster: Cluster) -> str:
    """The CA certificate alone (public): what a client verifies the servers with."""
    return cluster_ca(cluster).cert_pem


def _parse(stored: str) -> KeyPair:
    data = json.loads(stored)
    return KeyPair(data["cert"], data["key"])
