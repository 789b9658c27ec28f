"""/api/v1/certificate-secrets/: staff store client CAs for mutual TLS; bad PEM is a 400 by field, nothing stored."""
from __future__ import annotations

import pytest

from dataplane.certificates import new_ca
from targets.models import CertificateSecret

pytestmark = pytest.mark.django_db
URL = "/api/v1/certificate-secrets/"
CA = new_ca("app team CA")


def test_staff_store_a_certificate_and_everyone_reads_it_without_a_key(staff_api, member_api):
    created = staff_api.post(URL, {"name": "app-clients", "certificate": CA.cert_pem}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["notAfter"].endswith("Z")
    replaced = staff_api.post(URL, {"name": "app-clients", "certificate": new_ca("next").cert_pem}, format="json")
    assert replaced.status_code == 200
    listed = member_api.get(URL)
    assert [c["name"] for c in listed.json()] == ["app-clients"]
    assert "PRIVATE KEY" not in listed.content.decode()
    assert member_api.post(URL, {"name": "mine", "certificate": CA.cert_pem}, format="json").status_code == 403
    assert member_api.delete(URL + "app-clients/").status_code == 403
    assert staff_api.delete(URL + "app-clients/").status_code == 204


@pytest.mark.parametrize("body, field, says", [
    ({"name": "app-clients", "certificate": "hello"}, "certificate", "is not a PEM certificate"),
    ({"name": "app-clients", "certificate": CA.cert_pem + CA.key_pem}, "certificate", "holds a private key"),
    ({"name": "App Clients", "certificate": CA.cert_pem}, "name", ""),
    ({"name": "app-clients"}, "certificate", "required"),
])
def test_bad_input_is_a_400_by_field_that_changes_nothing(staff_api, body, field, says):
    staff_api.post(URL, {"name": "app-clients", "certificate": CA.cert_pem}, format="json")
    response = staff_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == [field] and says in " ".join(errors[field])
    assert "PRIVATE KEY" not in response.content.decode()
    assert CertificateSecret.objects.get().certificate.strip() == CA.cert_pem.strip()


def test_a_server_certificate_is_stored_with_its_key_which_is_never_shown(staff_api, member_api):
    from dataplane.certificates import new_server_certificate

    server = new_server_certificate(CA, "redis", ["localhost"])
    created = staff_api.post(URL, {"name": "acme-proxy", "certificate": server.cert_pem + CA.cert_pem,
                                   "key": server.key_pem}, format="json")
    assert created.status_code == 201, created.json()
    listed = member_api.get(URL).json()
    assert listed[0]["hasKey"] is True and listed[0]["subject"] == "CN=redis,O=redis control plane"
    assert "PRIVATE KEY" not in created.content.decode() + str(listed)
    wrong = staff_api.post(URL, {"name": "acme-proxy", "certificate": server.cert_pem + CA.cert_pem,
                                 "key": CA.key_pem}, format="json")
    assert wrong.status_code == 400 and list(wrong.json()["errors"]) == ["key"]
    assert CertificateSecret.objects.get().key.strip() == server.key_pem.strip()
