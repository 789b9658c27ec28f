"""`manage.py certificate_secret NAME --cert FILE.pem [--key KEY.pem] | --delete [--as WHO]`: a certificate (a client
CA, usually) that a REDB's `clientAuthenticationCertificates` names on the local target (mutual TLS); with `--key`, a
server certificate and its key that a REC's `certificates.proxyCertificateSecretName` names (the certificate
followed by the CA that issued it).

A private key only through `--key` (stored encrypted, never shown); bad input is refused and changes nothing.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import SpecError
from targets.certificates import MAX_PEM_BYTES, delete_certificate_secret, store_certificate_secret


class Command(BaseCommand):
    help = ("Store (or delete) a PEM certificate that clientAuthenticationCertificates can name (mutual TLS), or with "
            "--key a server certificate that certificates.proxyCertificateSecretName can name.")

    def add_arguments(self, parser):
        parser.add_argument("name", help="the name spec.clientAuthenticationCertificates uses")
        parser.add_argument("--cert", help="a PEM file with one or more certificates (CAs or client certificates)")
        parser.add_argument("--key", help="the certificate's PEM private key file (a server certificate: "
                                          "certificates.proxyCertificateSecretName); stored encrypted, never shown")
        parser.add_argument("--delete", action="store_true", help="remove the stored certificate")
        parser.add_argument("--as", dest="actor", default="cli", help="who the timeline names as the author")

    def handle(self, *args, name: str, cert: str | None, key: str | None, delete: bool, actor: str,
               **options):
        if delete:
            deleted = delete_certificate_secret(name, actor=actor)
            self.stdout.write(f"certificate secret {name} {'deleted' if deleted else 'did not exist'}")
            return
        if not cert:
            raise CommandError("give --cert FILE.pem (or --delete)")
        try:
            created = store_certificate_secret(name, _read("--cert", cert), _read("--key", key) if key else "",
                                               actor=actor)
        except SpecError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.errors.items())
                               ) from None
        self.stdout.write(f"certificate secret {name} {'stored' if created else 'replaced'}; databases naming it "
                          "pick it up at their next reconcile")


def _read(option: str, path: str) -> str:
    try:
        with open(Path(path), "rb") as handle:
            return handle.read(MAX_PEM_BYTES + 1).decode("utf-8", errors="replace")
    except OSError as exc:
        raise CommandError(f"{option}: cannot read {path}: {exc.strerror}") from None
