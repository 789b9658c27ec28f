"""`tlsMode: replica_ssl` on Kubernetes with pods that run for real: the replica's link to its master is TLS (to
the master's TLS port), watched by the cluster's TLS sentinel group; a deleted master is failed over by that group
and no acknowledged write is lost. With mutual TLS on as well: the replica and the TLS sentinels present the cluster
CA's certificates (in the pods' CA bundle next to the listed client CAs), an application its team's certificate.
Needs root, as tests/kube/test_running_pods.py."""
from __future__ import annotations

import shutil

import pytest
import redis

from clusters.certificates import ca_certificate
from dataplane.certificates import new_ca, new_server_certificate
from targets import managed
from targets.certificates import store_certificate_secret

from .test_inpod_failover import follow, selected
from .test_lifecycle import make_cluster, make_database
from .test_running_pods import NAMESPACE, Writer, converge
from .test_secure_pods import _pem_files, _ping, _service_address

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")]


class TlsWriter(Writer):
    """The tests' WAIT 1 writer, over TLS (the Service sends clients to the TLS port), with a client certificate."""

    def __init__(self, kube_env, database, ca_file: str, client: tuple[str, str]):
        super().__init__(kube_env, database)
        self.ca_file, self.client = ca_file, client

    def connect(self) -> redis.Redis:
        return redis.Redis(host=self.address[0], port=self.address[1], password=self.password, socket_timeout=3,
                           socket_connect_timeout=3, decode_responses=True, ssl=True, ssl_ca_certs=self.ca_file,
                           ssl_check_hostname=False, ssl_certfile=self.client[0], ssl_keyfile=self.client[1])


def _sentinel(runner, pod: str, *args: str) -> str:
    return runner.exec(NAMESPACE, pod, ["sh", "-c", "redis-cli -p 26379 --no-auth-warning sentinel "
                                        + " ".join(args)]).stdout


def _field(reply: str, name: str) -> str:
    lines = reply.split()
    return lines[lines.index(name) + 1] if name in lines else ""


def test_replica_ssl_replicates_over_tls_and_the_tls_sentinels_fail_a_deleted_master_over(kube_env, live_kube, team,
                                                                                          tmp_path):
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    app_ca = new_ca("app team CA")
    store_certificate_secret("app-clients", app_ca.cert_pem)
    database = make_database(cluster, team, tlsMode="replica_ssl", clientAuthenticationCertificates=["app-clients"])
    converge(database, lambda d: d.state == managed.DB_ACTIVE and d.status.get("master"))
    # The TLS group runs next to the plain one and watches the master at its TLS port; the plain one does not.
    assert _sentinel(live_kube, "rec-0", "masters").count("cache") == 0
    tls_group = [f"rec-tls-{i}" for i in range(3)]
    live_kube.wait_for("every TLS sentinel to know the replica", lambda: all(
        _sentinel(live_kube, pod, "replicas", "cache").splitlines().count("name") == 1 for pod in tls_group), 30)
    # The group's members found each other over TLS (each announces its TLS port): a quorum can vote.
    live_kube.wait_for("the TLS sentinels to know each other", lambda: all(
        _field(_sentinel(live_kube, pod, "master", "cache"), "num-other-sentinels") == "2" for pod in tls_group), 30)
    named = _sentinel(live_kube, "rec-tls-1", "get-master-addr-by-name", "cache").split()
    assert named == ["cache-0.cache-headless.redis.svc.cluster.local", "6380"]
    replicas = _sentinel(live_kube, "rec-tls-0", "replicas", "cache").split()
    assert replicas[replicas.index("port") + 1] == "6380"  # the replica announces its TLS port

    def replication() -> str:
        return live_kube.exec(NAMESPACE, "cache-1", ["sh", "-c", "redis-cli --no-auth-warning info replication"]
                              ).stdout
    live_kube.wait_for("the replica's TLS link to its master", lambda: "master_link_status:up" in replication(), 30)
    assert "master_port:6380" in replication()

    ca_file = tmp_path / "ca.crt"
    ca_file.write_text(ca_certificate(cluster))
    app = _pem_files(tmp_path, "app", new_server_certificate(app_ca, "app", ["app"]))
    assert not _ping(_service_address(kube_env, database), str(ca_file), None, database.password)  # no certificate
    with TlsWriter(kube_env, database, str(ca_file), app) as writer:
        writer.wait_for_more(20)
        live_kube.delete_pod(NAMESPACE, "cache-0")
        master, seconds = follow(kube_env, live_kube, "cache-0", "deleting the master pod")
        assert master == "cache-1"
        writer.wait_for_more(20)
    assert selected(kube_env, "cache") == ["cache-1"]
    assert _sentinel(live_kube, "rec-tls-2", "get-master-addr-by-name", "cache").split()[0] == \
        "cache-1.cache-headless.redis.svc.cluster.local"
    assert writer.missing() == [], f"{len(writer.missing())} of {len(writer.acknowledged)} acknowledged keys lost"
    print(f"replica_ssl: the Service followed the TLS sentinels' new master {seconds:.1f} s after deleting the "
          f"master pod; {len(writer.acknowledged)} acknowledged writes, {writer.errors} client errors")
