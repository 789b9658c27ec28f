"""Issue 14 on Kubernetes with pods that run for real: mutual TLS through the Service, a renewed certificate
loaded without a restart, and `defaultUser: false` (the pods' own user) through a failover.

One cluster's pods serve every check of a test (pod-runner tests are slow). Needs root, as
tests/kube/test_running_pods.py.
"""
from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from cryptography import x509

from access.internal import admin_password
from access.models import AccessObject
from clusters.certificates import ca_certificate
from core.errors import TargetError
from dataplane.certificates import new_ca, new_server_certificate
from kube.rigger import follow_masters
from manifests.documents import apply_documents
from targets import managed
from targets.certificates import store_certificate_secret
from timeline.models import Event

from ..documents import read_access
from .emulator import _pod_ready
from .podrunner.volumes import write_projection
from .test_lifecycle import make_database, run
from .test_running_pods import NAMESPACE, converge, live_database

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


def test_secured_databases_in_running_pods(kube_env, live_kube, team, tmp_path, settings):
    """One cluster's pods for both (pod-runner tests are slow): a database with the default user off, then a
    mutual TLS one."""
    database = live_database(kube_env, live_kube, team, defaultUser=False,
                             rolesPermissions=[{"type": "redis-enterprise", "role": "reader", "acl": "app-read"}])
    app_ca = new_ca("app team CA")
    store_certificate_secret("app-clients", app_ca.cert_pem)
    secure = make_database(database.cluster, team, name="secure", replication=False, tlsMode="enabled",
                           clientAuthenticationCertificates=["app-clients"])
    run(secure)  # its pod starts while the first database is checked
    default_user_off_through_a_failover(kube_env, live_kube, database)
    mutual_tls_and_a_renewal_loaded_live(kube_env, live_kube, secure, app_ca, tmp_path, settings)


def mutual_tls_and_a_renewal_loaded_live(kube_env, live_kube, database, app_ca, tmp_path, settings) -> None:
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    cluster = database.cluster
    other_ca = new_ca("someone else")
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

    # The team replaces its CA: the next pass loads the new bundle live; the old team certificate is refused.
    new_app_ca = new_ca("the app team's next CA")
    store_certificate_secret("app-clients", new_app_ca.cert_pem)
    loaded = Event.objects.filter(object_kind="database", object_id=database.pk, reason="TlsLoaded")
    converge(database, lambda d: loaded.exists(), timeout=60)
    successor = _pem_files(tmp_path, "successor", new_server_certificate(new_app_ca, "app", ["app"]))
    assert _ping(address, str(ca_file), successor, password) and not _ping(address, str(ca_file), app, password)
    assert in_pod("info server").split("run_id:")[1].split()[0] == run_id
    messages = " ".join(Event.objects.values_list("message", flat=True))
    assert "PRIVATE KEY" not in messages and "BEGIN CERTIFICATE" not in messages
    assert live_kube.errors == []


def delete_the_master_pod_and_reconcile(kube_env, live_kube, database) -> None:
    """Delete master pod cache-0 and reconcile (as worker and beat would) until the database is active again with
    cache-1 master and both pods ready, cache-0 recreated (at most 90 s)."""
    uid = kube_env.store.find("Pod", NAMESPACE, "cache-0")["metadata"]["uid"]
    live_kube.delete_pod(NAMESPACE, "cache-0")
    deadline = time.monotonic() + 90
    while True:
        follow_masters()
        try:
            run(database)
        except TargetError:
            database.refresh_from_db()
        pods = kube_env.store.all_of("Pod", NAMESPACE, f"redis.io/database={database.name}")
        if database.state == managed.DB_ACTIVE and database.status.get("master") == "cache-1" and len(pods) == 2 \
                and all(_pod_ready(p) for p in pods) and uid not in {p["metadata"]["uid"] for p in pods}:
            return
        assert time.monotonic() < deadline, f"never failed over: {database.status}; {live_kube.errors}\n" \
            + live_kube.logs(NAMESPACE, "cache-0") + live_kube.logs(NAMESPACE, "cache-1")
        time.sleep(0.5)


def default_user_off_through_a_failover(kube_env, live_kube, database) -> None:
    """defaultUser: false: every pod starts with the default user off; probes, start script, replication,
    sentinels, rigger and exporter use the internal user, whose password only Secret <db>-internal holds."""
    internal = admin_password(database)
    assert "password" not in kube_env.store.find("Secret", NAMESPACE, f"redb-{database.name}")["data"]
    rendered = json.dumps([kube_env.store.find("StatefulSet", NAMESPACE, database.name),
                           kube_env.store.find("ConfigMap", NAMESPACE, f"{database.name}-config")])
    assert internal not in rendered and "cache-internal" in rendered  # a secretKeyRef, never the value
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):  # nor on any command line of this machine
        with contextlib.suppress(OSError):
            assert internal.encode() not in cmdline.read_bytes()
    # A user granted through the REDB's rolesPermissions (the role's own scopes name another database).
    apply_documents(read_access(NAMESPACE, "elsewhere"), actor="test")
    converge(database, lambda d: Event.objects.filter(object_kind="database", object_id=d.pk, reason="AclApplied",
                                                      message__contains="alice").count() >= 2)
    assert not Event.objects.filter(reason="AclApplied", message__contains="cp-admin").exists()  # as the pods made it
    admin = ["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" exec redis-cli --user cp-admin --no-auth-warning "$@"',
             "sh"]  # the pod's own login (REDIS_PASSWORD: the internal one); REDISCLI_AUTH is unset, no default user
    assert live_kube.exec(NAMESPACE, "cache-0", [*admin, "set", "app:x", "1"]).stdout.strip() == "OK"
    namespace = live_kube.client_pod()
    # Bounded: one connection through the Service that stalls (seen once in a few runs right after the failover:
    # redis-cli got no answer for 30 s) is retried rather than spending the whole wait.
    cli = ["timeout", "5", "redis-cli", "-h", f"{database.name}.{NAMESPACE}.svc.cluster.local", "-p",
           str(database.spec["databasePort"])]
    alice = {"REDISCLI_AUTH": AccessObject.objects.get(name="alice").password}

    answers: list[str] = []

    def alice_reads() -> bool:
        answer = live_kube.exec(namespace, "client", [*cli, "--user", "alice", "get", "app:x"], env=alice)
        answers.append(f"rc={answer.returncode} {answer.stdout.strip()} {answer.stderr.strip()}".strip())
        return answer.stdout.strip() == "1"
    assert alice_reads()
    refused = live_kube.exec(namespace, "client", [*cli, "--user", "alice", "set", "app:x", "2"], env=alice)
    assert "NOPERM" in refused.stdout + refused.stderr  # bound through a role with +@read ~app:*
    old = live_kube.exec(namespace, "client", [*cli, "ping"], env={"REDISCLI_AUTH": database.password})
    assert "PONG" not in old.stdout and "WRONGPASS" in old.stdout + old.stderr  # the old default password fails

    # Failover with the default user off: the sentinels (auth-user), the rigger and the start-up guard log in as
    # the internal user; the old master comes back as a replica whose link (masteruser) is up.
    delete_the_master_pod_and_reconcile(kube_env, live_kube, database)
    replica = live_kube.exec(NAMESPACE, "cache-0", [*admin, "info", "replication"]).stdout
    assert "role:slave" in replica and "master_link_status:up" in replica
    try:
        converge(database, lambda d: alice_reads(), timeout=60)  # the next passes give a restarted pod its users
    except AssertionError as exc:
        pods = {p["metadata"]["name"]: (p["metadata"].get("labels") or {}).get("redis.io/role")
                for p in kube_env.store.all_of("Pod", NAMESPACE, "redis.io/database=cache")}
        both = ("cache-0", "cache-1")
        acl = {pod: live_kube.exec(NAMESPACE, pod, [*admin, "acl", "list"]).stdout for pod in both}
        keys = {pod: live_kube.exec(NAMESPACE, pod, [*admin, "exists", "app:x"]).stdout for pod in both}
        raise AssertionError(f"{exc}; alice got {answers[-3:]}; pods {pods}; app:x {keys}; acl {acl}") from None
    assert "user default off" in live_kube.exec(NAMESPACE, "cache-1", [*admin, "acl", "list"]).stdout

    def scraped() -> bool:  # the exporter sidecar logs in as the internal user too (REDIS_USER)
        address = kube_env.store.find("Pod", NAMESPACE, "cache-1")["status"]["podIP"]
        try:
            with urllib.request.urlopen(f"http://{address}:9121/metrics", timeout=5) as page:
                return "redis_up 1" in page.read().decode()
        except OSError:
            return False
    assert live_kube.wait_for("the exporter to scrape as the internal user", scraped, 30)
    logs = "".join(live_kube.logs(NAMESPACE, pod, name) for pod in ("cache-0", "cache-1")
                   for name in ("redis", "rigger", "metrics"))
    assert "starting as" in logs and internal not in logs  # nor in any container's log
    assert internal not in " ".join(Event.objects.values_list("message", flat=True))  # nor in an event
    assert live_kube.errors == []
