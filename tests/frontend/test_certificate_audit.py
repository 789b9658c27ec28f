"""Certificate secrets stored, replaced and deleted are audited in the timeline with the actor, through every
path (manage.py certificate_secret, the API, the dashboard), and no event holds a certificate body or a key."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from dataplane.certificates import new_ca, new_server_certificate
from timeline.models import Event

pytestmark = pytest.mark.django_db
CA = new_ca("acme CA")
SERVER = new_server_certificate(CA, "redis.acme", ["localhost"])


def _events() -> list[tuple[str, str, str]]:
    return [(e.object_name, e.reason, e.actor) for e in Event.objects.filter(object_kind="certificate")
            .order_by("id")]


def test_every_path_audits_with_the_actor_and_never_the_pem(logged_in, staff_user, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text(SERVER.cert_pem + CA.cert_pem)
    key.write_text(SERVER.key_pem)
    call_command("certificate_secret", "acme-proxy", "--cert", str(cert), "--key", str(key), "--as", "alice")
    call_command("certificate_secret", "acme-proxy", "--cert", str(cert), "--key", str(key), "--as", "alice")
    api = APIClient()
    api.force_authenticate(staff_user)
    assert api.post("/api/v1/certificate-secrets/", {"name": "app-clients", "certificate": CA.cert_pem},
                    format="json").status_code == 201
    assert api.post("/api/v1/certificate-secrets/", {"name": "app-clients", "certificate": "bad"},
                    format="json").status_code == 400  # refused: changes nothing, no event
    assert api.delete("/api/v1/certificate-secrets/app-clients/").status_code == 204
    dashboard = logged_in(staff_user)
    dashboard.post("/certificates/", {"name": "app-clients", "certificate": CA.cert_pem, "key": ""})
    dashboard.post("/certificates/acme-proxy/delete/")
    call_command("certificate_secret", "gone", "--delete", "--as", "alice")  # nothing there: no event

    assert _events() == [
        ("acme-proxy", "CertificateStored", "alice"), ("acme-proxy", "CertificateReplaced", "alice"),
        ("app-clients", "CertificateStored", "ops"), ("app-clients", "CertificateDeleted", "ops"),
        ("app-clients", "CertificateStored", "ops"), ("acme-proxy", "CertificateDeleted", "ops"),
    ]
    stored = Event.objects.filter(reason="CertificateStored", object_name="acme-proxy").get().message
    assert "CN=redis.acme" in stored and "with its key" in stored and f"{SERVER.not_after:%Y-%m-%d}" in stored
    messages = " ".join(Event.objects.values_list("message", flat=True))
    assert "BEGIN" not in messages and SERVER.key_pem.splitlines()[1] not in messages
    page = dashboard.get("/certificates/").content.decode()
    assert "CertificateDeleted" in page and "BEGIN" not in page
