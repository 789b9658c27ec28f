"""Issue 14's TLS acceptance on the local target: real redis-server, redis-sentinel and HAProxy processes,
real `redis-cli --tls` and Python's ssl module as clients."""
from __future__ import annotations

import contextlib
import ssl
import subprocess

import pytest
import redis
from cryptography import x509
from redis.backoff import NoBackoff
from redis.retry import Retry

from localtarget.ports import is_listening
from metrics.sampler import sample_database
from timeline.models import Event

from .conftest import settle
from .helpers import direct, endpoint_port, kill9, master_name, wait_until
from .test_private_files import too_open

NO_RETRY = Retry(NoBackoff(), 0)  # a refused AUTH is an answer, not something to retry with backoff


def sentinel_client(port: int, password: str | None = None) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2, retry=NO_RETRY)


def tls_endpoint(database, ca_file, **kwargs) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=endpoint_port(database), password=database.password, ssl=True,
                       ssl_ca_certs=str(ca_file), socket_timeout=2, socket_connect_timeout=1, decode_responses=True,
                       retry=NO_RETRY, **kwargs)


def cli(database, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(endpoint_port(database)), "-a", database.password,
                           "--no-auth-warning", *args], capture_output=True, text=True, timeout=10)


def served_serial(database) -> int:
    """The serial number of the certificate a new TLS connection through the endpoint is shown."""
    pem = ssl.get_server_certificate(("127.0.0.1", endpoint_port(database)), timeout=5)
    return x509.load_pem_x509_certificate(pem.encode()).serial_number


def test_tls_endpoint_pings_with_the_ca_refuses_plain_and_failover_keeps_writes(make_database, tmp_path):
    from databases.services import reveal_credentials

    database = make_database(tlsMode="enabled", replication=True)
    credentials = reveal_credentials(database, actor="test")
    assert "BEGIN CERTIFICATE" in credentials.ca_certificate and "PRIVATE" not in credentials.ca_certificate
    assert "--tls --cacert ca.crt" in credentials.redis_cli
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text(credentials.ca_certificate)

    assert cli(database, "--tls", "--cacert", str(ca_file), "PING").stdout.strip() == "PONG"
    plain = cli(database, "PING")
    assert "PONG" not in plain.stdout, plain.stdout
    wrong_ca = tmp_path / "other.crt"
    wrong_ca.write_text(subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null", "-subj", "/CN=x",
                                        "-days", "1"], capture_output=True, text=True, timeout=30).stdout)
    assert "PONG" not in cli(database, "--tls", "--cacert", str(wrong_ca), "PING").stdout
    assert database.status["tlsCertificateExpires"].endswith("Z")
    assert sample_database(database) is not None  # the sampler reads INFO where the control plane reaches the master

    client = tls_endpoint(database, ca_file)
    for i in range(100):
        client.set(f"key:{i}", i)
    assert client.wait(1, 2000) >= 1  # acknowledged by the replica
    kill9(direct(database, master_name(database)))  # the control port stays plain, on loopback, with a password
    assert wait_until(lambda: tls_endpoint(database, ca_file).get("key:99") == "99"
                      and tls_endpoint(database, ca_file).info("replication")["role"] == "master", timeout=15)
    after = tls_endpoint(database, ca_file)
    assert after.mget([f"key:{i}" for i in range(100)]) == [str(i) for i in range(100)]


def test_renewal_is_live_keeps_run_id_and_leaves_no_key_readable(make_database, tmp_path, settings):
    from databases.services import reveal_credentials

    database = make_database(tlsMode="enabled")
    before = direct(database, "shard-0-0").info("server")["run_id"]
    first = served_serial(database)
    (tmp_path / "ca.crt").write_text(reveal_credentials(database, actor="test").ca_certificate)
    open_before = tls_endpoint(database, tmp_path / "ca.crt")
    open_before.set("k", "v")

    settings.CONTROLPLANE_TLS_RENEW_DAYS = 365  # longer than a certificate lives: it is due now
    settle(database)
    settings.CONTROLPLANE_TLS_RENEW_DAYS = 30
    renewed = Event.objects.filter(object_kind="database", object_id=database.pk, reason="CertificateRenewed")
    assert renewed.exists()
    assert served_serial(database) != first  # a new connection is shown the new certificate
    assert direct(database, "shard-0-0").info("server")["run_id"] == before  # no restart
    assert open_before.get("k") == "v"  # a connection made before the renewal goes on
    database.refresh_from_db()
    assert settle(database).settled and not Event.objects.filter(
        object_kind="database", object_id=database.pk, reason="CertificateRenewed").count() > 1

    var = tmp_path / "var"
    keys = list(var.rglob("server-*.key"))
    assert len(keys) == 1 and "PRIVATE KEY" in keys[0].read_text()  # the old pair was removed
    assert too_open(var) == []
    for log in var.rglob("*.log"):
        assert "PRIVATE KEY" not in log.read_text(errors="replace")
    messages = " ".join(Event.objects.values_list("message", flat=True))
    assert "PRIVATE KEY" not in messages and "BEGIN CERTIFICATE" not in messages


def test_turning_tls_off_and_on_is_live(make_database, tmp_path):
    from databases.services import update_database

    database = make_database()
    run_id = direct(database, "shard-0-0").info("server")["run_id"]
    update_database(database, spec={**database.spec, "tlsMode": "enabled"}, actor="test")
    assert settle(database).state == "active"
    assert "PONG" not in cli(database, "PING").stdout
    assert cli(database, "--tls", "--insecure", "PING").stdout.strip() == "PONG"

    update_database(database, spec={**database.spec, "tlsMode": "disabled"}, actor="test")
    assert settle(database).state == "active"
    assert cli(database, "PING").stdout.strip() == "PONG"
    assert direct(database, "shard-0-0").info("server")["run_id"] == run_id


def test_mutual_tls_refuses_a_client_without_a_certificate_the_listed_ca_signed(make_database, tmp_path):
    from django.core.management import call_command

    from databases.services import reveal_credentials
    from dataplane.certificates import new_ca, new_server_certificate

    client_ca = new_ca("app team CA")
    (tmp_path / "client-ca.pem").write_text(client_ca.cert_pem)
    call_command("certificate_secret", "app-clients", "--cert", str(tmp_path / "client-ca.pem"))
    database = make_database(tlsMode="enabled", clientAuthenticationCertificates=["app-clients"])
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text(reveal_credentials(database, actor="test").ca_certificate)
    signed = new_server_certificate(client_ca, "app", ["app"])
    (tmp_path / "app.crt").write_text(signed.cert_pem)
    (tmp_path / "app.key").write_text(signed.key_pem)
    stranger = new_server_certificate(new_ca("someone else"), "x", ["x"])
    (tmp_path / "x.crt").write_text(stranger.cert_pem)
    (tmp_path / "x.key").write_text(stranger.key_pem)

    tls = ["--tls", "--cacert", str(ca_file)]
    assert cli(database, *tls, "--cert", str(tmp_path / "app.crt"), "--key", str(tmp_path / "app.key"),
               "PING").stdout.strip() == "PONG"
    assert "PONG" not in cli(database, *tls, "PING").stdout
    assert "PONG" not in cli(database, *tls, "--cert", str(tmp_path / "x.crt"), "--key", str(tmp_path / "x.key"),
                             "PING").stdout
    assert database.status["state"] == "active"  # the control plane's own checks still pass
    # The credentials' redis-cli line, run as given, beside ca.crt and the client's client.crt / client.key.
    credentials = reveal_credentials(database, actor="test")
    assert any("mutual TLS" in hint and "app-clients" in hint for hint in credentials.hints)
    (tmp_path / "client.crt").write_text(signed.cert_pem)
    (tmp_path / "client.key").write_text(signed.key_pem)
    given = subprocess.run(f"{credentials.redis_cli} PING", shell=True, cwd=tmp_path, capture_output=True,
                           text=True, timeout=10)
    assert given.stdout.strip() == "PONG", (credentials.redis_cli.replace(credentials.password, "***"), given)


def test_sentinels_refuse_clients_without_the_password_and_older_members_get_one(make_database, tmp_path):
    from clusters.models import Cluster

    database = make_database(replication=True)
    cluster = Cluster.objects.get(pk=database.cluster_id)
    confs = sorted((tmp_path / "var").rglob("sentinel.conf"))
    ports = [int(next(line.split()[1] for line in conf.read_text().splitlines() if line.startswith("port ")))
             for conf in confs]
    for port in ports:
        with pytest.raises(redis.AuthenticationError):
            sentinel_client(port).execute_command("SENTINEL", "MASTERS")
        authenticated = redis.Redis(host="127.0.0.1", port=port, password=cluster.admin_password, socket_timeout=2)
        assert authenticated.sentinel_get_master_addr_by_name(f"{database.name}-0")

    # A member from before sentinels had passwords (running without one) is restarted with it.
    conf = confs[0]
    with contextlib.suppress(redis.ConnectionError):
        sentinel_client(ports[0], cluster.admin_password).shutdown(nosave=True)
    assert wait_until(lambda: not is_listening(ports[0]), timeout=10)
    conf.write_text("".join(line + "\n" for line in conf.read_text().splitlines()
                            if not line.startswith(("requirepass ", "user default "))))
    subprocess.run(["redis-sentinel", str(conf)], check=True, timeout=10, umask=0o077)
    assert wait_until(lambda: sentinel_client(ports[0]).ping(), timeout=10)
    assert wait_until(lambda: settle(cluster) and Event.objects.filter(
        object_kind="cluster", object_id=cluster.pk, reason="SentinelSecured").exists(), timeout=30)
    assert "requirepass" in conf.read_text()
    with pytest.raises(redis.AuthenticationError):
        sentinel_client(ports[0]).execute_command("SENTINEL", "MASTERS")
