"""TLS material: the pure certificate functions, and certificate input refused by field, changing nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from django.core.management import CommandError, call_command

from core.errors import SpecError
from databases.models import Database
from databases.services import create_database
from dataplane.certificates import (
    CertificateProblem,
    check_certificates,
    check_key_pair,
    new_ca,
    new_server_certificate,
    renewal_due,
    signed_by,
)
from targets.certificates import store_certificate_secret
from targets.models import CertificateSecret

from .conftest import errors_of

pytestmark = pytest.mark.django_db

CA = new_ca("test CA")


def test_a_server_certificate_is_signed_by_its_ca_and_names_its_hosts():
    pair = new_server_certificate(CA, "db", ["localhost", "127.0.0.1", "db.rec.svc"])
    assert signed_by(pair.cert_pem, CA.cert_pem)
    assert not signed_by(pair.cert_pem, new_ca("other").cert_pem)
    assert check_key_pair(pair.cert_pem, pair.key_pem) == pair
    san = x509.load_pem_x509_certificate(pair.cert_pem.encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "db.rec.svc"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_renewal_is_due_inside_the_window_only():
    now = datetime.now(UTC)
    pair = new_server_certificate(CA, "db", ["localhost"], days=90, now=now)
    assert not renewal_due(pair.cert_pem, window_days=30, now=now)
    assert renewal_due(pair.cert_pem, window_days=30, now=now + timedelta(days=61))
    assert renewal_due(None, window_days=30) and renewal_due("not pem", window_days=30)


def test_bad_certificate_input_says_why_without_echoing_it():
    pair = new_server_certificate(CA, "db", ["localhost"])
    other = new_server_certificate(CA, "db", ["localhost"])
    cases = [("hello", pair.key_pem, "is not a PEM certificate"),
             (pair.cert_pem, other.key_pem, "does not match"),
             (pair.cert_pem, "nope", "not a PEM private key"),
             (pair.cert_pem + pair.key_pem, pair.key_pem, "holds a private key"),
             ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", pair.key_pem, "not a readable")]
    for cert, key, why in cases:
        with pytest.raises(CertificateProblem, match=why) as caught:
            check_key_pair(cert, key)
        assert "PRIVATE" not in str(caught.value)
    with pytest.raises(CertificateProblem):
        check_certificates("")


def test_certificate_secrets_refuse_bad_input_by_field_and_keep_the_old_one(tmp_path):
    assert store_certificate_secret("clients", CA.cert_pem) is True
    for name, pem, field in [("clients", "not a certificate", "certificate"),
                             ("clients", CA.cert_pem + CA.key_pem, "certificate"),
                             ("Not_A_Name", CA.cert_pem, "name")]:
        with pytest.raises(SpecError) as caught:
            store_certificate_secret(name, pem)
        assert list(caught.value.errors) == [field]
    assert CertificateSecret.objects.get(name="clients").certificate.strip() == CA.cert_pem.strip()
    bad = tmp_path / "bad.pem"
    bad.write_text("garbage")
    with pytest.raises(CommandError, match="certificate: is not a PEM certificate"):
        call_command("certificate_secret", "clients", "--cert", str(bad))
    assert CertificateSecret.objects.count() == 1


def test_client_certificates_are_checked_by_field_and_must_exist_on_the_target(cluster):
    spec = {"memorySize": "100MB", "tlsMode": "enabled", "clientAuthenticationCertificates": ["missing"]}
    errors = errors_of(create_database, cluster=cluster, name="mtls", spec=spec, team=None, actor="t")
    assert "no certificate secret named missing" in errors["spec.clientAuthenticationCertificates"][0]
    spec = {"memorySize": "100MB", "clientAuthenticationCertificates": ["Bad Name", 3]}
    errors = errors_of(create_database, cluster=cluster, name="mtls", spec=spec, team=None, actor="t")
    assert set(errors) == {"spec.clientAuthenticationCertificates", "spec.clientAuthenticationCertificates[0]",
                           "spec.clientAuthenticationCertificates[1]"}
    assert not Database.objects.filter(name="mtls").exists()
    store_certificate_secret("clients", CA.cert_pem)
    spec = {"memorySize": "100MB", "tlsMode": "enabled", "clientAuthenticationCertificates": ["clients"]}
    assert create_database(cluster=cluster, name="mtls", spec=spec, team=None, actor="t").obj.pk
