"""The per-cluster CA: made the first time a TLS database of the cluster needs it, stored encrypted on the
cluster row, and never shown back but its certificate (what clients put in `--cacert`)."""
from __future__ import annotations

import json

from django.db import transaction

from dataplane.certificates import KeyPair, new_ca

from .models import Cluster


def cluster_ca(cluster: Cluster) -> KeyPair:
    """The cluster's CA, created (once, under a row lock so two workers cannot make two) when missing."""
    if cluster.tls_ca:
        return _parse(cluster.tls_ca)
    with transaction.atomic():
        row = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if not row.tls_ca:
            ca = new_ca(f"{cluster.name} cluster CA")
            row.tls_ca = json.dumps({"cert": ca.cert_pem, "key": ca.key_pem})
            Cluster.objects.filter(pk=row.pk).update(tls_ca=row.tls_ca)
    cluster.tls_ca = row.tls_ca
    return _parse(row.tls_ca)


def ca_certificate(cluster: Cluster) -> str:
    """The CA certificate alone (public): what a client verifies the servers with."""
    return cluster_ca(cluster).cert_pem


def _parse(stored: str) -> KeyPair:
    data = json.loads(stored)
    return KeyPair(data["cert"], data["key"])
