"""TLS files of one database on this machine: `<db>/tls/` holds the cluster CA certificate, the server
certificate and key (0600, in a 0700 folder) and, with mutual TLS, the bundle of client CAs.

A renewed certificate gets new file names (the serial number is in them): `CONFIG SET tls-cert-file` with
a new path always makes Redis load the new pair, live, and the old files are removed once every process
uses the new ones. Which pair is current is in `current` (the file stem).

A cluster whose REC names `certificates.proxyCertificateSecretName` has the servers present the user's
certificate instead (`user-<serial>.crt/.key`, named in `served`); the cluster-CA pair stays as the control
plane's own client identity (its checks and the exporter present it under mutual TLS), and `ca.crt` holds
the user's CA too, so the control plane verifies the user's certificate.
"""
from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dataplane.certificates import (
    KeyPair,
    ProvidedCertificate,
    new_server_certificate,
    not_after,
    renewal_due,
    serial_hex,
    signed_by,
)
from targets.private_files import write_private


@dataclass(frozen=True)
class TlsFiles:
    """What a TLS shard process is configured with (paths only: never the key itself)."""
    directory: Path
    stem: str
    client_ca: str = ""  # mutual TLS: the file of client CAs (its name holds a digest: new content, new name)
    served: str = ""  # the stem of the user's pair the servers present ("": the cluster-CA pair `stem`)

    @property
    def mutual(self) -> bool:
        """Whether clients must present a certificate signed by a CA in client_ca_file."""
        return bool(self.client_ca)

    @property
    def cert_file(self) -> Path:
        return self.directory / f"{self.stem}.crt"

    @property
    def key_file(self) -> Path:
        return self.directory / f"{self.stem}.key"

    @property
    def served_cert_file(self) -> Path:
        return self.directory / f"{self.served or self.stem}.crt"

    @property
    def served_key_file(self) -> Path:
        return self.directory / f"{self.served or self.stem}.key"

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def client_ca_file(self) -> Path:
        return self.directory / self.client_ca

    @property
    def expires(self) -> datetime:
        """When the certificate clients are shown expires."""
        return not_after(self.served_cert_file.read_text())

    def redis_settings(self, tls_port: int) -> dict[str, str]:
        """The redis.conf / CONFIG SET settings, files before the port (a TLS port needs its pair first)."""
        return {
            "tls-cert-file": str(self.served_cert_file),
            "tls-key-file": str(self.served_key_file),
            "tls-ca-cert-file": str(self.client_ca_file if self.mutual else self.ca_file),
            "tls-auth-clients": "yes" if self.mutual else "no",
            "tls-port": str(tls_port),
        }


def sentinel_settings(files: TlsFiles, tls_port: int) -> dict[str, str]:
    """A member of the TLS sentinel group: TLS to the shards and to its peers (tls-replication yes), and its
    TLS port only for peers showing a cluster-CA certificate (the control plane uses the plain loopback port)."""
    return {**files.redis_settings(tls_port), "tls-auth-clients": "yes", "tls-replication": "yes"}


def tls_directory(db_root: Path) -> Path:
    return db_root / "tls"


def current(directory: Path) -> str | None:
    try:
        stem = (directory / "current").read_text().strip()
    except OSError:
        return None
    return stem if (directory / f"{stem}.crt").exists() and (directory / f"{stem}.key").exists() else None


def served(directory: Path) -> str:
    """The stem of the user's pair the servers present ("" when none, or its files are gone)."""
    try:
        stem = (directory / "served").read_text().strip()
    except OSError:
        return ""
    return stem if stem and (directory / f"{stem}.crt").exists() and (directory / f"{stem}.key").exists() else ""


def ensure(directory: Path, ca: KeyPair, *, common_name: str, names: list[str], window_days: int,
           client_cas: str = "", provided: ProvidedCertificate | None = None) -> tuple[TlsFiles, bool, bool]:
    """The database's files, with a fresh server certificate when there is none or it expires within
    `window_days`, and the user's pair when `provided`; returns them, whether a new cluster-CA certificate was
    made, and whether the certificate the servers present changed source or (a user's) content."""
    write_private(directory / "ca.crt", ca.cert_pem + (provided.ca_pem if provided else ""))
    bundle = client_cas.rstrip("\n") + "\n" + ca.cert_pem if client_cas else ""
    client_ca = f"client-ca-{hashlib.sha256(bundle.encode()).hexdigest()[:12]}.crt" if bundle else ""
    if bundle:
        write_private(directory / client_ca, bundle)
    stem = current(directory)
    made = stem is None or renewal_due((directory / f"{stem}.crt").read_text(), window_days=window_days) \
        or not _issued_by(directory / f"{stem}.crt", ca)
    if made:
        pair = new_server_certificate(ca, common_name, names)
        stem = f"server-{serial_hex(pair.cert_pem)}"
        write_private(directory / f"{stem}.key", pair.key_pem)
        write_private(directory / f"{stem}.crt", pair.cert_pem)
        write_private(directory / "current", stem)
    user = f"user-{serial_hex(provided.pair.cert_pem)}" if provided is not None else ""
    if provided is not None:
        write_private(directory / f"{user}.key", provided.pair.key_pem)
        write_private(directory / f"{user}.crt", provided.pair.cert_pem)
    switched = served(directory) != user
    write_private(directory / "served", user)
    return TlsFiles(directory, stem, client_ca, user), made, switched


def remove_old(files: TlsFiles) -> None:
    """Delete server pairs, user pairs and client CA files other than the current ones (after every process
    switched)."""
    for path in [*files.directory.glob("server-*"), *files.directory.glob("user-*"),
                 *files.directory.glob("client-ca-*")]:
        if path.stem not in (files.stem, files.served) and path.name != files.client_ca:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _issued_by(cert_file: Path, ca: KeyPair) -> bool:
    try:
        return signed_by(cert_file.read_text(), ca.cert_pem)
    except (OSError, ValueError):
        return False
