"""The TLS files of a `replicaSources` SECRET source whose `uri` is `rediss://`: the CA its `serverCertSecret`
holds (the source's server certificate is checked against it), and the certificate and key its
`clientKeySecret` holds (a mutual-TLS source), checked, written 0600 under
`VAR_DIR/replica-sources/tls-<database id>/` for the follower's CONFIG SET and the control plane's own client.
Without a `clientKeySecret` a throwaway certificate is made once (redis-server opens no TLS link without one)."""
from __future__ import annotations

import shutil
from pathlib import Path

from dataplane.certificates import (
    CertificateProblem,
    check_certificates,
    check_key_pair,
    new_ca,
    new_server_certificate,
)
from targets.certificates import certificate_secret_values
from targets.private_files import private_dir, write_private

from . import following, sni_relay
from .migration import SourceTls

# The keys each secret may use: the operator's (`cert`, `key`), a stored certificate secret's, a kubernetes.io/tls's.
CA_KEYS = ("cert", "certificate", "ca.crt", "tls.crt")
CERT_KEYS, KEY_KEYS = ("cert", "certificate", "tls.crt"), ("key", "tls.key")


def folder_of(database_id: int) -> Path:
    return following.root() / f"tls-{int(database_id)}"


def source_tls(database, server_cert_secret: str, client_key_secret: str) -> SourceTls:
    """The files for following a TLS source; ValueError naming the field when a secret is missing or unusable."""
    values = certificate_secret_values(database, server_cert_secret)
    ca = next((values[k] for k in CA_KEYS if values.get(k)), "")
    where = f"serverCertSecret {server_cert_secret}"
    if not ca:
        raise ValueError(f"{where} does not exist or holds no certificate (key cert); store the source's CA: "
                         f"manage.py certificate_secret {server_cert_secret} --cert ca.pem")
    try:
        check_certificates(ca)
    except CertificateProblem as exc:
        raise ValueError(f"{where}: {exc}") from None
    folder = private_dir(folder_of(database.pk))
    cert_file, key_file = folder / "client.crt", folder / "client.key"
    if client_key_secret:
        values = certificate_secret_values(database, client_key_secret)
        cert = next((values[k] for k in CERT_KEYS if values.get(k)), "")
        key = next((values[k] for k in KEY_KEYS if values.get(k)), "")
        where = f"clientKeySecret {client_key_secret}"
        if not cert or not key:
            raise ValueError(f"{where} does not exist or holds no certificate and key (keys cert and key); store "
                             f"them: manage.py certificate_secret {client_key_secret} --cert client.pem --key "
                             "client.key")
        try:
            check_key_pair(cert, key)
        except CertificateProblem as exc:
            raise ValueError(f"{where}: {exc}") from None
        write_private(cert_file, cert)
        write_private(key_file, key)
    elif not (folder / "throwaway").exists():
        pair = new_server_certificate(new_ca("replica-source follower"), "replica-source-follower", ["localhost"])
        write_private(cert_file, pair.cert_pem)
        write_private(key_file, pair.key_pem)
        write_private(folder / "throwaway", "")
    if client_key_secret:
        (folder / "throwaway").unlink(missing_ok=True)
    write_private(folder / "ca.crt", ca)
    return SourceTls(folder / "ca.crt", cert_file, key_file)


def relay_folder(database_id: int) -> Path:
    """Where the SNI relay of the database's source keeps its files (sni_relay.py)."""
    return folder_of(database_id) / "relay"


def forget(database_id: int) -> None:
    """Stop the database's SNI relay, if any, and remove its TLS files."""
    sni_relay.stop(relay_folder(database_id))
    shutil.rmtree(folder_of(database_id), ignore_errors=True)


def forget_all_but(wanted: set[int]) -> int:
    """Forget the TLS files (and relay) of every database not in `wanted` (its source is gone); how many."""
    if not following.root().is_dir():
        return 0
    gone = [int(p.name[4:]) for p in following.root().glob("tls-*") if p.name[4:].isdigit()
            and int(p.name[4:]) not in wanted]
    for database_id in gone:
        forget(database_id)
    return len(gone)
