"""A server certificate users bring (REC `certificates.proxyCertificateSecretName`): checked once, by field,
whatever the write path; the REC field's own rule."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clusters.services import create_cluster
from dataplane.certificates import CertificateProblem, new_ca, new_server_certificate, provided_server_certificate
from targets.certificates import store_certificate_secret
from targets.models import CertificateSecret, Target

from .conftest import errors_of

CA = new_ca("acme CA")
SERVER = new_server_certificate(CA, "redis", ["localhost"])


def test_the_ca_comes_from_the_chain_or_ca_crt_and_must_have_signed_the_certificate():
    assert provided_server_certificate(SERVER.cert_pem + CA.cert_pem, SERVER.key_pem).ca_pem.strip() \
        == CA.cert_pem.strip()
    assert provided_server_certificate(SERVER.cert_pem, SERVER.key_pem, CA.cert_pem).ca_pem.strip() \
        == CA.cert_pem.strip()
    assert provided_server_certificate(CA.cert_pem, CA.key_pem).ca_pem.strip() == CA.cert_pem.strip()  # self-signed
    for cert, key, ca, says in [
        (SERVER.cert_pem, SERVER.key_pem, "", "without the CA certificate"),
        (SERVER.cert_pem, SERVER.key_pem, new_ca("other").cert_pem, "not signed by the CA"),
        (SERVER.cert_pem + CA.cert_pem, CA.key_pem, "", "does not match"),
        (new_server_certificate(CA, "old", ["x"], days=1, now=datetime.now(UTC) - timedelta(days=3)).cert_pem,
         SERVER.key_pem, CA.cert_pem, "expired"),
    ]:
        with pytest.raises(CertificateProblem, match=says) as caught:
            provided_server_certificate(cert, key, ca)
        assert "BEGIN" not in str(caught.value)


@pytest.mark.django_db
def test_a_stored_key_must_match_and_a_bad_one_changes_nothing():
    store_certificate_secret("acme", SERVER.cert_pem + CA.cert_pem, SERVER.key_pem)
    other = new_server_certificate(CA, "redis", ["localhost"])
    assert errors_of(store_certificate_secret, "acme", other.cert_pem + CA.cert_pem, SERVER.key_pem) \
        == {"key": ["the key does not match the certificate"]}
    assert CertificateSecret.objects.get().certificate.startswith(SERVER.cert_pem.strip())


@pytest.mark.django_db
def test_the_rec_field_is_a_secret_name_and_the_others_are_accepted_unused():
    target = Target.default()
    assert list(errors_of(create_cluster, name="rec", namespace="rec", target=target, actor="test",
                          spec={"nodes": 1, "certificates": {"proxyCertificateSecretName": "Not A Name"}})) \
        == ["spec.certificates.proxyCertificateSecretName"]
    written = create_cluster(name="rec", namespace="rec", target=target, actor="test",
                             spec={"nodes": 1, "certificates": {"proxyCertificateSecretName": "acme",
                                                                "apiCertificateSecretName": "api"}})
    assert written.obj.typed_spec.proxy_certificate_secret == "acme"
    assert any("spec.certificates.apiCertificateSecretName" in w for w in written.warnings)
    assert any("no certificate secret acme with a key is stored yet" in w for w in written.warnings)
