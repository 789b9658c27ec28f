"""A REC's `certificates.proxyCertificateSecretName` on the local target: the databases' servers present the
user's own certificate (stored with `manage.py certificate_secret NAME --cert --key`), clients verify it with the
user's CA, a replaced secret is loaded live, a missing one is the database's Error with an event. Real
redis-server, HAProxy and `redis-cli --tls`."""
from __future__ import annotations

import ssl

import pytest
from cryptography import x509
from django.core.management import call_command
from django.db import connection

from core.errors import TargetError
from dataplane.certificates import new_ca, new_server_certificate
from engine.reconcile import reconcile
from timeline.models import Event

from .conftest import settle
from .helpers import direct, endpoint_port
from .test_private_files import too_open
from .test_tls import cli


def served(database) -> x509.Certificate:
    pem = ssl.get_server_certificate(("127.0.0.1", endpoint_port(database)), timeout=5)
    return x509.load_pem_x509_certificate(pem.encode())


def store(tmp_path, name: str, cert_pem: str, key_pem: str) -> None:
    (tmp_path / "server.pem").write_text(cert_pem)
    (tmp_path / "server.key").write_text(key_pem)
    call_command("certificate_secret", name, "--cert", str(tmp_path / "server.pem"),
                 "--key", str(tmp_path / "server.key"))


def test_databases_serve_the_users_certificate_verified_by_the_users_ca(make_cluster, make_database, tmp_path):
    from databases.services import reveal_credentials

    user_ca = new_ca("acme internal CA")
    first = new_server_certificate(user_ca, "redis.acme.internal", ["localhost", "127.0.0.1"])
    store(tmp_path, "acme-proxy", first.cert_pem + user_ca.cert_pem, first.key_pem)
    client_ca = new_ca("app team CA")  # mutual TLS too: the control plane keeps its own client identity
    (tmp_path / "clients.pem").write_text(client_ca.cert_pem)
    call_command("certificate_secret", "app-clients", "--cert", str(tmp_path / "clients.pem"))
    app = new_server_certificate(client_ca, "app", ["app"])
    (tmp_path / "app.crt").write_text(app.cert_pem)
    (tmp_path / "app.key").write_text(app.key_pem)
    with connection.cursor() as cursor:  # the key is encrypted at rest
        cursor.execute("SELECT key FROM targets_certificatesecret WHERE name = 'acme-proxy'")
        assert "PRIVATE KEY" not in cursor.fetchone()[0]

    cluster = make_cluster(certificates={"proxyCertificateSecretName": "acme-proxy"})
    database = make_database(cluster=cluster, tlsMode="enabled", clientAuthenticationCertificates=["app-clients"])
    credentials = reveal_credentials(database, actor="test")
    assert credentials.ca_certificate.strip() == user_ca.cert_pem.strip()
    assert any("acme-proxy" in hint for hint in credentials.hints)
    (tmp_path / "user-ca.crt").write_text(credentials.ca_certificate)
    tls = ["--tls", "--cacert", str(tmp_path / "user-ca.crt"), "--cert", str(tmp_path / "app.crt"),
           "--key", str(tmp_path / "app.key")]
    assert cli(database, *tls, "PING").stdout.strip() == "PONG"
    assert served(database).serial_number == x509.load_pem_x509_certificate(first.cert_pem.encode()).serial_number
    assert Event.objects.filter(object_kind="database", object_id=database.pk, reason="CertificateFromSecret").exists()
    assert database.status["tlsCertificateExpires"] == f"{first.not_after:%Y-%m-%dT%H:%M:%SZ}"

    # The user renews: the replaced secret is loaded live at the next reconcile (same run_id).
    run_id = direct(database, "shard-0-0").info("server")["run_id"]
    second = new_server_certificate(user_ca, "redis.acme.internal", ["localhost", "127.0.0.1"])
    store(tmp_path, "acme-proxy", second.cert_pem + user_ca.cert_pem, second.key_pem)
    assert settle(database).state == "active"
    assert served(database).serial_number == x509.load_pem_x509_certificate(second.cert_pem.encode()).serial_number
    assert direct(database, "shard-0-0").info("server")["run_id"] == run_id
    assert cli(database, *tls, "PING").stdout.strip() == "PONG"
    assert len(list((tmp_path / "var").rglob("user-*.key"))) == 1  # the old pair is gone
    assert too_open(tmp_path / "var") == []

    # The secret goes away: the database's status says which field and secret, once, as an event too.
    call_command("certificate_secret", "acme-proxy", "--delete")
    with pytest.raises(TargetError, match="proxyCertificateSecretName: secret acme-proxy does not exist"):
        reconcile("database", database.pk)
    assert cli(database, *tls, "PING").stdout.strip() == "PONG"  # the servers keep the last certificate
    database.refresh_from_db()
    assert database.status["state"] == "Error"
    assert "acme-proxy does not exist" in database.status["conditions"][0]["message"]
    messages = " ".join(Event.objects.values_list("message", flat=True))
    assert "acme-proxy does not exist" in messages and "PRIVATE KEY" not in messages
