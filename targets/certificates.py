"""Certificates users bring: checked once here (PEM, readable, not expired, no private key), for every
write path (the `certificate_secret` command today), and looked up by the targets that use them."""
from __future__ import annotations

from core.errors import SpecError
from core.validation import dns_subdomain_problem
from dataplane.certificates import CertificateProblem, check_certificates

from .models import CertificateSecret

MAX_PEM_BYTES = 64 * 1024


def store_certificate_secret(name: str, pem: str) -> bool:
    """Create or replace a certificate secret; True if it was new. SpecError (by field) changes nothing."""
    problems: dict[str, list[str]] = {}
    problem = dns_subdomain_problem(name)
    if problem:
        problems["name"] = [problem]
    if not isinstance(pem, str) or len(pem.encode()) > MAX_PEM_BYTES:
        problems["certificate"] = [f"must be PEM text of at most {MAX_PEM_BYTES // 1024} KiB"]
    else:
        try:
            check_certificates(pem)
        except CertificateProblem as exc:
            problems["certificate"] = [str(exc)]
    if problems:
        raise SpecError(problems)
    _, created = CertificateSecret.objects.update_or_create(name=name, defaults={"certificate": pem.strip() + "\n"})
    return created


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
