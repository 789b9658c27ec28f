"""Issue 14 on Kubernetes with pods that run for real: mutual TLS through the Service, a renewed certificate
loaded without a restart, and `defaultUser: false` (the pods' own user) through a failover.

One cluster's pods serve every check of a test (pod-runner tests are slow). Needs root, as
tests/kube/test_running_pods.py.
"""
from __future__ import annotations

import socket
import ssl

import pytest
import redis
from cryptography import x509

from clusters.certificates import ca_certificate
from dataplane.certificates import new_ca, new_server_certificate
from targets import managed
from targets.certificates import store_certificate_secret
from timeline.models import Event

from .podrunner.volumes import write_projection
from .test_lifecycle import make_cluster, make_database, run
from .test_running_pods import NAMESPACE, converge

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_mounted_secret_changes_all_its_files_at_once_through_the_data_symlink(tmp_path):
    """The pod runner as the kubelet: readers see the old pair or the new pair, never a new certificate with
    the old key; names no longer in the Secret disappear."""
    folder = tmp_path / "tls"
    assert write_projection(folder, {"server-a.crt": (b"A", 0o400), "server-a.key": (b"a", 0o400)}, None)
    first = (folder / "..data").resolve()
    assert (folder / "server-a.crt").is_symlink() and (folder / "server-a.crt").read_bytes() == b"A"
    assert not write_projection(folder, {"server-a.crt": (b"A", 0o400), "server-a.key": (b"a", 0o400)}, None)
    assert write_projection(folder, {"server-b.crt": (b"B", 0o400), "server-b.key": (b"b", 0o400)}, None)
    assert (folder / "..data").resolve() != first and not first.exists()
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["server-b.crt", "server-b.key"]
    assert (folder / "server-b.key").read_bytes() == b"b" and (folder / "server-b.key").stat().st_mode & 0o777 == 0o400


def _pem_files(tmp_path, name: str, pair) -> tuple[str, str]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert.write_text(pair.cert_pem)
    key.write_text(pair.key_pem)
    key.chmod(0o600)
    return str(cert), str(key)


def _service_address(kube_env, database) -> tuple[str, int]:
    service = kube_env.store.find("Service", NAMESPACE, database.name)
    return service["spec"]["clusterIP"], int(service["spec"]["ports"][0]["port"])


def _served_serial(address: tuple[str, int], ca_file: str, client: tuple[str, str]) -> int:
    """The serial number of the certificate a new TLS connection through the Service is shown."""
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False  # the Service's ClusterIP is not among the names; the chain is still checked
    context.load_cert_chain(*client)
    with socket.create_connection(address, timeout=5) as raw, context.wrap_socket(raw) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number


def _ping(address: tuple[str, int], ca_file: str, client: tuple[str, str] | None, password: str) -> bool:
    extra = {"ssl_certfile": client[0], "ssl_keyfile": client[1]} if client else {}
    connection = redis.Redis(host=address[0], port=address[1], password=password, ssl=True, ssl_ca_certs=ca_file,
                             ssl_check_hostname=False, socket_timeout=5, socket_connect_timeout=5, **extra)
    try:
        return connection.ping()
    except (redis.RedisError, OSError):
        return False
    finally:
        connection.close()


def test_mutual_tls_through_the_service_and_a_renewed_certificate_loaded_live(kube_env, live_kube, team, tmp_path,
                                                                               settings):
    app_ca, other_ca = new_ca("app team CA"), new_ca("someone else")
    store_certificate_secret("app-clients", app_ca.cert_pem)
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, name="secure", replication=False, tlsMode="enabled",
                             clientAuthenticationCertificates=["app-clients"])
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    ca_file = tmp_path / "ca.crt"
    cluster.refresh_from_db()
    ca_file.write_text(ca_certificate(cluster))
    address = _service_address(kube_env, database)
    password = database.password
    app = _pem_files(tmp_path, "app", new_server_certificate(app_ca, "app", ["app"]))
    stranger = _pem_files(tmp_path, "stranger", new_server_certificate(other_ca, "app", ["app"]))

    assert live_kube.wait_for("the Service to answer a client with a certificate of the listed CA",
                              lambda: _ping(address, str(ca_file), app, password), 30)
    assert not _ping(address, str(ca_file), None, password)  # no client certificate: refused
    assert not _ping(address, str(ca_file), stranger, password)  # signed by a CA not listed: refused

    # Renewal: the control plane makes a new pair, the kubelet swaps the mounted Secret, one CONFIG SET loads it.
    def in_pod(command: str) -> str:
        return live_kube.exec(NAMESPACE, "secure-0", ["sh", "-c", f"redis-cli --no-auth-warning {command}"]).stdout
    run_id = in_pod("info server").split("run_id:")[1].split()[0]
    first = _served_serial(address, str(ca_file), app)
    kept = redis.Redis(host=address[0], port=address[1], password=password, ssl=True, ssl_ca_certs=str(ca_file),
                       ssl_check_hostname=False, ssl_certfile=app[0], ssl_keyfile=app[1], socket_timeout=5)
    kept.set("opened", "before")
    settings.CONTROLPLANE_TLS_RENEW_DAYS = 365  # longer than a certificate lives: due now, renewed by this pass
    run(database)
    settings.CONTROLPLANE_TLS_RENEW_DAYS = 30
    renewed = Event.objects.filter(object_kind="database", object_id=database.pk, reason="CertificateRenewed")
    converge(database, lambda d: renewed.exists(), timeout=60)
    assert _served_serial(address, str(ca_file), app) != first  # a new connection is shown the new certificate
    assert in_pod("info server").split("run_id:")[1].split()[0] == run_id  # no restart
    assert kept.get("opened") == b"before"  # a connection opened before the renewal goes on
    kept.close()
    assert "server-" in in_pod("config get tls-cert-file") and database.status["tlsCertificateExpires"].endswith("Z")
    messages = " ".join(Event.objects.values_list("message", flat=True))
    assert "PRIVATE KEY" not in messages and "BEGIN CERTIFICATE" not in messages
    assert live_kube.errors == []
