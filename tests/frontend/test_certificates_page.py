"""The Certificates page (staff): certificate secrets listed with subject, expiry and whether a key is held (never
the key), stored through the same checks as the API, deleted; members are refused."""
from __future__ import annotations

import pytest

from clusters.services import create_cluster
from dataplane.certificates import new_ca, new_server_certificate
from targets.models import CertificateSecret, Target

pytestmark = pytest.mark.django_db
CA = new_ca("acme CA")
SERVER = new_server_certificate(CA, "redis.acme", ["localhost"])


def test_staff_store_list_and_delete_certificate_secrets_and_never_see_a_key(logged_in, staff_user):
    client = logged_in(staff_user)
    empty = client.get("/certificates/").content.decode()
    assert "No certificate secrets yet" in empty
    assert "<title>Certificates · Redis control plane</title>" in empty  # the title holds nothing else
    page = client.post("/certificates/", {"name": "app-clients", "certificate": CA.cert_pem, "key": ""},
                       follow=True).content.decode()
    assert "Certificate secret app-clients stored" in page
    page = client.post("/certificates/", {"name": "acme-proxy", "certificate": SERVER.cert_pem + CA.cert_pem,
                                          "key": SERVER.key_pem}, follow=True).content.decode()
    assert 'data-secret="acme-proxy"' in page and "CN=redis.acme,O=redis control plane" in page
    assert f"{SERVER.not_after:%Y-%m-%d}" in page and "held (server certificate)" in page
    assert "PRIVATE KEY" not in page
    create_cluster(name="rec", namespace="rec", target=Target.default(), actor="test",
                   spec={"nodes": 1, "certificates": {"proxyCertificateSecretName": "acme-proxy"}})
    assert "cluster rec (server certificate)" in client.get("/certificates/").content.decode()

    page = client.post("/certificates/acme-proxy/delete/", follow=True).content.decode()
    assert "Certificate secret acme-proxy deleted" in page and 'data-secret="acme-proxy"' not in page
    assert list(CertificateSecret.objects.values_list("name", flat=True)) == ["app-clients"]


def test_a_key_that_does_not_match_is_a_field_error_and_is_not_echoed(logged_in, staff_user):
    response = logged_in(staff_user).post("/certificates/", {"name": "acme-proxy", "certificate": SERVER.cert_pem
                                                             + CA.cert_pem, "key": CA.key_pem})
    assert response.status_code == 400
    page = response.content.decode()
    assert "the key does not match the certificate" in page and "PRIVATE KEY" not in page
    assert not CertificateSecret.objects.exists()


def test_members_are_refused(logged_in, member):
    client = logged_in(member)
    assert client.get("/certificates/").status_code == 403
    assert client.post("/certificates/", {"name": "x", "certificate": CA.cert_pem}).status_code == 403
    assert "/certificates/" not in client.get("/targets/").content.decode()
