"""TLS material for the data plane: a per-cluster CA, server certificates signed by it, and the checks on
certificates users bring. Pure functions of PEM text (Python `cryptography`); nothing here touches a file.

Keys are ECDSA P-256 (small, fast to make, accepted by OpenSSL 1.1+ and every Redis client). A server
certificate is valid for SERVER_DAYS and is renewed when it has fewer than the renewal window left.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 90
BACKDATE = timedelta(minutes=5)  # clocks of clients a little behind still accept a fresh certificate


class CertificateProblem(ValueError):
    """Certificate input that cannot be used; the message says why, without echoing the input."""


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, both PEM text."""
    cert_pem: str
    key_pem: str

    @property
    def not_after(self) -> datetime:
        return not_after(self.cert_pem)


def _now() -> datetime:
    return datetime.now(UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "redis control plane"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])


def new_ca(common_name: str, *, days: int = CA_DAYS) -> KeyPair:
    """A self-signed CA that may only sign end-entity certificates (path length 0)."""
    key = _new_key()
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key))


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def new_server_certificate(ca: KeyPair, common_name: str, names: list[str], *, days: int = SERVER_DAYS,
                           now: datetime | None = None) -> KeyPair:
    """A server (and client: replicas and sentinels present it) certificate for `names` (DNS names or IPs)."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.encode())
    ca_key = serialization.load_pem_private_key(ca.key_pem.encode(), password=None)
    key = _new_key()
    start = (now or _now()) - BACKDATE
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + BACKDATE + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(_san(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key))


def not_after(cert_pem: str) -> datetime:
    return x509.load_pem_x509_certificate(cert_pem.encode()).not_valid_after_utc


def serial_hex(cert_pem: str) -> str:
    """The first 16 hex digits of the serial number: a short name for one certificate."""
    return format(x509.load_pem_x509_certificate(cert_pem.encode()).serial_number, "x")[:16]


def renewal_due(cert_pem: str | None, *, window_days: int, now: datetime | None = None) -> bool:
    """Whether a certificate is missing, unreadable, or expires within `window_days`."""
    if not cert_pem:
        return True
    try:
        expires = not_after(cert_pem)
    except ValueError:
        return True
    return expires - (now or _now()) <= timedelta(days=window_days)


def signed_by(cert_pem: str, ca_pem: str) -> bool:
    """Whether `cert_pem` carries a valid signature of the CA in `ca_pem`."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_certificates(pem: str) -> list[x509.Certificate]:
    """One or more PEM certificates; CertificateProblem if the text holds none or something else."""
    if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
        raise CertificateProblem("is not a PEM certificate (-----BEGIN CERTIFICATE-----)")
    if "PRIVATE KEY-----" in pem:
        raise CertificateProblem("holds a private key; give only certificates")
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        raise CertificateProblem("is not a readable PEM certificate") from None
    expired = [c for c in certs if c.not_valid_after_utc <= _now()]
    if expired:
        raise CertificateProblem(f"expired on {expired[0].not_valid_after_utc:%Y-%m-%d}")
    return certs


def check_key_pair(cert_pem: str, key_pem: str) -> KeyPair:
    """A user-provided certificate and key: PEM, readable, unencrypted, and belonging together."""
    cert = check_certificates(cert_pem)[0]
    if not isinstance(key_pem, str) or "PRIVATE KEY-----" not in key_pem:
        raise CertificateProblem("the key is not a PEM private key")
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        raise CertificateProblem("the key is not a readable, unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CertificateProblem("the key must be RSA or ECDSA")
    wanted = cert.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    actual = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    if wanted != actual:
        raise CertificateProblem("the key does not match the certificate")
    return KeyPair(cert_pem, key_pem)


@dataclass(frozen=True)
class ProvidedCertificate:
    """A server certificate a user brings (REC `certificates.proxyCertificateSecretName`): the pair the servers
    present, and the CA certificates clients verify it with (what the credentials show)."""
    pair: KeyPair
    ca_pem: str

    @property
    def not_after(self) -> datetime:
        return self.pair.not_after


def provided_server_certificate(cert_pem: str, key_pem: str, ca_pem: str = "") -> ProvidedCertificate:
    """Check a user's server certificate: a readable, unexpired certificate (followed by its chain, if any), its
    matching key, and the CA that issued it: `ca_pem`, else the certificates after the first, else the
    certificate itself when it is self-signed. CertificateProblem says what is wrong, never echoing input."""
    pair = check_key_pair(cert_pem, key_pem)
    certs = check_certificates(cert_pem)
    leaf = certs[0]
    authorities = check_certificates(ca_pem) if ca_pem else certs[1:]
    if not authorities and leaf.issuer == leaf.subject:
        authorities = [leaf]
    if not authorities:
        raise CertificateProblem("comes without the CA certificate that issued it: put the CA certificate after it "
                                 "(or under the secret's ca.crt key), so clients can verify it")
    chain = [*certs[1:], *authorities]
    if not any(_issued(leaf, ca) for ca in chain):
        raise CertificateProblem("is not signed by the CA certificate given with it")
    pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in authorities)
    return ProvidedCertificate(pair, pem)


def _issued(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
