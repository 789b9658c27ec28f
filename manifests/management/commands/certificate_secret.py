"""`manage.py certificate_secret NAME --cert FILE.pem | --delete`: a certificate (a client CA, usually) that a
REDB's `clientAuthenticationCertificates` names on the local target (mutual TLS).

Only certificates are accepted, never a private key; bad input is refused and changes nothing.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import SpecError
from targets.certificates import MAX_PEM_BYTES, store_certificate_secret
from targets.models import CertificateSecret


class Command(BaseCommand):
    help = "Store (or delete) a PEM certificate that clientAuthenticationCertificates can name (mutual TLS)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the name spec.clientAuthenticationCertificates uses")
        parser.add_argument("--cert", help="a PEM file with one or more certificates (CAs or client certificates)")
        parser.add_argument("--delete", action="store_true", help="remove the stored certificate")

    def handle(self, *args, name: str, cert: str | None, delete: bool, **options):
        if delete:
            deleted, _ = CertificateSecret.objects.filter(name=name).delete()
            self.stdout.write(f"certificate secret {name} {'deleted' if deleted else 'did not exist'}")
            return
        if not cert:
            raise CommandError("give --cert FILE.pem (or --delete)")
        try:
            with open(Path(cert), "rb") as handle:
                raw = handle.read(MAX_PEM_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"--cert: cannot read {cert}: {exc.strerror}") from None
        try:
            created = store_certificate_secret(name, raw.decode("utf-8", errors="replace"))
        except SpecError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.errors.items())
                               ) from None
        self.stdout.write(f"certificate secret {name} {'stored' if created else 'replaced'}; databases naming it "
                          "pick it up at their next reconcile")
