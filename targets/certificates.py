"""Certificates users bring: checked once here (PEM, readable, not expired, a key only where it belongs), for
every write path (`manage.py certificate_secret`, the API, the dashboard), and looked up by the targets that
use them: client CAs for mutual TLS, and the server certificate a REC's `certificates.proxyCertificateSecretName`
names (a Kubernetes Secret on a Kubernetes target, a stored secret with its key on the local target)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from core.drivers import driver_for
from core.errors import SpecError, TargetError
from core.validation import dns_subdomain_problem
from dataplane.certificates import (
    CertificateProblem,
    ProvidedCertificate,
    check_certificates,
    provided_server_certificate,
)
from timeline.models import Event
from timeline.record import CONTROLPLANE_ACTOR

from .models import CertificateSecret

MAX_PEM_BYTES = 64 * 1024
PROXY_FIELD = "spec.certificates.proxyCertificateSecretName"
# The keys a server certificate secret may hold: the operator's (`kubectl create secret generic NAME
# --from-file=certificate=... --from-file=key=...`), or a kubernetes.io/tls Secret's (cert-manager adds ca.crt).
CERT_KEYS, KEY_KEYS = ("certificate", "tls.crt"), ("key", "tls.key")


def store_certificate_secret(name: str, pem: str, key: str = "", *, actor: str = CONTROLPLANE_ACTOR) -> bool:
    """Create or replace a certificate secret (with `key`: a server certificate, checked as one); True if it
    was new. SpecError (by field) changes nothing; no message repeats the input. Audited in the timeline."""
    problems: dict[str, list[str]] = {}
    problem = dns_subdomain_problem(name)
    if problem:
        problems["name"] = [problem]
    if not isinstance(pem, str) or len(pem.encode()) > MAX_PEM_BYTES:
        problems["certificate"] = [f"must be PEM text of at most {MAX_PEM_BYTES // 1024} KiB"]
    elif not isinstance(key, str) or len(key.encode()) > MAX_PEM_BYTES:
        problems["key"] = [f"must be PEM text of at most {MAX_PEM_BYTES // 1024} KiB"]
    else:
        try:
            check_certificates(pem)
        except CertificateProblem as exc:
            problems["certificate"] = [str(exc)]
        if key and not problems:
            try:
                provided_server_certificate(pem, key)
            except CertificateProblem as exc:
                problems["key" if "key" in str(exc) else "certificate"] = [str(exc)]
    if problems:
        raise SpecError(problems)
    secret, created = CertificateSecret.objects.update_or_create(
        name=name, defaults={"certificate": pem.strip() + "\n", "key": key.strip() + "\n" if key else ""})
    facts, done = summary(secret), "stored" if created else "replaced"
    _audit(secret, "CertificateStored" if created else "CertificateReplaced",
           f"certificate secret {name} {done} by {actor}: {facts.subject or 'no subject'}, expires "
           f"{facts.not_after:%Y-%m-%d}{', with its key' if facts.has_key else ''}", actor)
    return created


def delete_certificate_secret(name: str, *, actor: str = CONTROLPLANE_ACTOR) -> bool:
    """Remove a certificate secret; True if there was one. Audited in the timeline."""
    secret = CertificateSecret.objects.filter(name=name).first()
    if secret is None:
        return False
    _audit(secret, "CertificateDeleted", f"certificate secret {name} deleted by {actor}", actor)
    secret.delete()
    return True


def _audit(secret: CertificateSecret, reason: str, message: str, actor: str) -> None:
    """An event in the secret's timeline (public facts only: never the certificate body or the key)."""
    Event.objects.create(object_kind=CertificateSecret.kind, object_id=secret.pk, object_name=secret.name,
                         reason=reason, message=message, actor=actor)


def certificate_events(limit: int = 30) -> list[Event]:
    return list(Event.objects.filter(object_kind=CertificateSecret.kind)[:limit])


def provided_certificate(database) -> ProvidedCertificate | None:
    """The server certificate the database's cluster names in `certificates.proxyCertificateSecretName`, checked
    (None when it names none: the cluster CA signs one). Read at every reconcile, so a replaced secret is taken
    at the next one; TargetError (the database's status Error, with an event) when the secret is missing, has
    no certificate and key, or they cannot serve (expired, not matching, no CA)."""
    name = database.cluster.typed_spec.proxy_certificate_secret
    if not name:
        return None
    values = certificate_secret_values(database, name)
    cert = next((values[k] for k in CERT_KEYS if values.get(k)), "")
    key = next((values[k] for k in KEY_KEYS if values.get(k)), "")
    where = f"{PROXY_FIELD}: secret {name}"
    if not values:
        raise TargetError(f"{where} does not exist (store it: manage.py certificate_secret {name} --cert FILE "
                          "--key FILE, or on Kubernetes a Secret with keys certificate and key, or tls.crt and "
                          "tls.key)")
    if not cert or not key:
        raise TargetError(f"{where} holds no certificate and key (keys certificate and key, or tls.crt and tls.key)")
    try:
        return provided_server_certificate(cert, key, values.get("ca.crt", ""))
    except CertificateProblem as exc:
        raise TargetError(f"{where} cannot serve: {exc}") from None


def certificate_secret_values(database, name: str) -> dict[str, str]:
    """Secret `name` as `database`'s target sees it: a Kubernetes Secret, else the stored certificate secret
    (keys `certificate` and, for a server or client certificate, `key`); {} when there is none."""
    values = driver_for(database.target).secret_values(database, name)
    if values is None:  # the target keeps no secrets: the control plane's stored certificate secrets
        row = CertificateSecret.objects.filter(name=name).first()
        values = {"certificate": row.certificate, "key": row.key} if row else {}
    return values


@dataclass(frozen=True)
class Summary:
    """What lists of certificate secrets show (API, dashboard): public facts, never the key."""
    subject: str  # of the first certificate
    not_after: datetime | None  # when the first of them expires; None: one has expired since it was stored
    has_key: bool


def summary(secret: CertificateSecret) -> Summary:
    try:
        certs = check_certificates(secret.certificate)
    except CertificateProblem:
        certs = []
    try:
        subject = x509.load_pem_x509_certificate(secret.certificate.encode()).subject.rfc4514_string()
    except ValueError:
        subject = ""
    return Summary(subject, min((c.not_valid_after_utc for c in certs), default=None), bool(secret.key))


def missing_secrets(names: tuple[str, ...] | list[str]) -> list[str]:
    known = set(CertificateSecret.objects.filter(name__in=names).values_list("name", flat=True))
    return [name for name in names if name not in known]


def certificate_bundle(names: tuple[str, ...] | list[str]) -> str:
    """The named certificates in one PEM bundle (what `tls-ca-cert-file` takes), in the order given."""
    by_name = dict(CertificateSecret.objects.filter(name__in=names).values_list("name", "certificate"))
    return "".join(by_name[name] for name in names if name in by_name)


def client_certificate_problems(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`clientAuthenticationCertificates` naming certificate secrets that are not stored (both targets' wording)."""
    missing = missing_secrets(names)
    if not missing:
        return {}
    return {"spec.clientAuthenticationCertificates": f"no certificate secret named {', '.join(missing)} on this "
            f"target; store it first: manage.py certificate_secret {missing[0]} --cert FILE.pem"}
