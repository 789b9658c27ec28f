"""End to end with pods that run for real: the rendered start scripts, sentinel configs and probes execute.

The control plane reconciles against the API server emulator; the pod runner (tests/kube/podrunner)
schedules the StatefulSet pods on three "nodes" and runs each in its own network, mount, UTS and PID
namespaces on a private bridge, with cluster DNS and Services. Needs root (skipped otherwise).
"""
from __future__ import annotations

import base64
import time
import urllib.request

import pytest
import redis

from core.errors import TargetError
from databases.services import upgrade_database
from kube.rigger import follow_masters
from targets import managed

from ..writers import BackgroundWriter, acknowledged_set
from .emulator import _pod_ready
from .test_lifecycle import make_cluster, make_database, run

pytestmark = pytest.mark.django_db(transaction=True)

NAMESPACE = "redis"
SYNC_PASSES = 8  # reconciles watched while a replica is in its full sync


def converge(obj, done, timeout: float = 90.0) -> None:
    """Reconcile `obj` (as the worker and beat would) until `done(obj)`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            run(obj)
        except TargetError:
            obj.refresh_from_db()
        if done(obj):
            return
        assert time.monotonic() < deadline, f"{obj.name} never converged: {obj.state} {obj.status}"
        time.sleep(0.5)


def live_database(kube_env, runner, team, **spec):
    """A cluster and a replicated database, active, whose every sentinel has discovered the replica (from the
    master's INFO, within 10 s): before that no failover is possible."""
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, **spec)
    converge(database, lambda d: d.state == managed.DB_ACTIVE and d.status.get("master"))

    def replicas_seen() -> bool:
        return all(runner.exec(NAMESPACE, f"rec-{i}", ["sh", "-c", 'redis-cli -p 26379 '
                                                       f"--no-auth-warning sentinel replicas {database.name}"])
                   .stdout.splitlines().count("name") == 1 for i in range(3))
    runner.wait_for("every sentinel to know the replica", replicas_seen, 30)
    return database


def secret_password(kube_env, database) -> str:
    secret = kube_env.store.find("Secret", NAMESPACE, f"redb-{database.name}")
    return base64.b64decode(secret["data"]["password"]).decode()


def test_replicated_database_runs_in_pods_and_a_client_pod_reaches_it_by_service_name(kube_env, live_kube, team):
    database = live_database(kube_env, live_kube, team)
    pods = {p["metadata"]["name"]: p for p in kube_env.store.all_of("Pod", NAMESPACE)}
    assert set(pods) == {"rec-0", "rec-1", "rec-2", "cache-0", "cache-1"}
    # Quorum members, and master and replica, never share a node (required anti-affinity).
    assert len({pods[f"rec-{i}"]["spec"]["nodeName"] for i in range(3)}) == 3
    assert pods["cache-0"]["spec"]["nodeName"] != pods["cache-1"]["spec"]["nodeName"]
    assert len({p["status"]["podIP"] for p in pods.values()}) == 5

    # The rendered start script made cache-1 a replica of cache-0 by its DNS name, and the sentinels
    # (registered by the control plane by name) agree.
    def replication() -> str:
        return live_kube.exec(NAMESPACE, "cache-1", ["sh", "-c", 'redis-cli --no-auth-warning '
                                                     "info replication"]).stdout
    assert "master_host:cache-0.cache-headless.redis.svc.cluster.local" in replication()
    live_kube.wait_for("the replica's link to its master", lambda: "master_link_status:up" in replication(), 30)
    answer = live_kube.exec(NAMESPACE, "rec-1", ["sh", "-c", 'redis-cli -p 26379 '
                                                 "--no-auth-warning sentinel get-master-addr-by-name cache"]).stdout
    assert answer.split()[0] == "cache-0.cache-headless.redis.svc.cluster.local"

    # An application pod in another namespace: Service name -> ClusterIP -> the master; AUTH with the Secret's password.
    namespace = live_kube.client_pod()
    port = str(database.spec["databasePort"])
    host = f"{database.name}.{NAMESPACE}.svc.cluster.local"
    cli = ["redis-cli", "-h", host, "-p", port]
    password = {"REDISCLI_AUTH": secret_password(kube_env, database)}
    written = live_kube.exec(namespace, "client", [*cli, "set", "greeting", "hello"], env=password)
    assert written.stdout.strip() == "OK", written
    assert live_kube.exec(namespace, "client", [*cli, "get", "greeting"], env=password).stdout.strip() == "hello"
    refused = live_kube.exec(namespace, "client", [*cli, "get", "greeting"], env={"REDISCLI_AUTH": "wrong"})
    assert "WRONGPASS" in refused.stdout + refused.stderr
    # The replica got it through replication.
    assert live_kube.exec(NAMESPACE, "cache-1", ["sh", "-c", 'redis-cli --no-auth-warning '
                                                 "get greeting"]).stdout.strip() == "hello"
    # Every pod's metrics sidecar scrapes its own Redis (password from the Secret) on the `metrics` port.
    def scraped(pod_name: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://{pods[pod_name]['status']['podIP']}:9121/metrics", timeout=5) as page:
                text = page.read().decode()
        except OSError:
            return False
        return "redis_up 1" in text and "redis_memory_used_bytes" in text
    for name in ("cache-0", "cache-1"):
        live_kube.wait_for(f"the exporter of {name}", lambda name=name: scraped(name), 30)
    # Endpoints follow readiness and the master label.
    endpoints = kube_env.store.find("Endpoints", NAMESPACE, database.name)
    assert [a["targetRef"]["name"] for a in endpoints["subsets"][0]["addresses"]] == ["cache-0"]
    assert live_kube.errors == []


class Writer(BackgroundWriter):
    """Writes keys through the database Service from outside the pods, as an application does; a key counts as
    acknowledged once `WAIT 1` says a replica has it. Connection errors (during a failover) are retried."""

    def __init__(self, kube_env, database):
        super().__init__()
        service = kube_env.store.find("Service", NAMESPACE, database.name)
        self.address = (service["spec"]["clusterIP"], int(service["spec"]["ports"][0]["port"]))
        self.password = secret_password(kube_env, database)
        self.acknowledged: list[str] = []
        self.errors = 0
        self.last_error = ""

    def connect(self) -> redis.Redis:
        return redis.Redis(host=self.address[0], port=self.address[1], password=self.password, socket_timeout=3,
                           socket_connect_timeout=3, decode_responses=True)

    def _run(self) -> None:
        client, number = self.connect(), 0
        while not self.stopping:
            key = f"key:{number}"
            try:
                if acknowledged_set(client, key, number):
                    self.acknowledged.append(key)
                number += 1
            except redis.RedisError as exc:
                self.errors += 1
                self.last_error = str(exc)
                client.close()
                time.sleep(0.1)
                client = self.connect()

    def wait_for_more(self, count: int, timeout: float = 60) -> None:
        wanted = len(self.acknowledged) + count
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < wanted:
            assert time.monotonic() < deadline, \
                f"writes stalled at {len(self.acknowledged)} ({self.errors} errors, last: {self.last_error})"
            time.sleep(0.1)

    def missing(self) -> list[str]:
        client = self.connect()
        values = client.mget(self.acknowledged)
        client.close()
        return [key for key, value in zip(self.acknowledged, values, strict=True) if value is None]


def replica_in_full_sync(runner) -> bool:
    """cache-1 runs as a replica waiting for its full sync (link down until the master streams its data)."""
    try:
        info = runner.exec(NAMESPACE, "cache-1", ["sh", "-c", "redis-cli --no-auth-warning info replication"])
    except LookupError:  # between the old pod and the new one
        return False
    return "role:slave" in info.stdout and "master_link_status:down" in info.stdout


def reconcile_once(database) -> None:
    """One pass of what worker and beat do: the rigger's fast loop, then the database's reconcile."""
    follow_masters()
    try:
        run(database)
    except TargetError:  # e.g. no replica good enough for a switchover yet: retried, as Celery would
        database.refresh_from_db()


def test_a_rolling_upgrade_waits_out_a_full_sync_and_keeps_every_acknowledged_key(kube_env, live_kube, team):
    """Under a writer: the upgrade replaces the replica first; while the new one waits for its full sync (the
    master holds it back 60 s) no reconcile switches over to it; once the sync runs, the master is switched over
    through the sentinels (never a blind restart) and every acknowledged key is there."""
    database = live_database(kube_env, live_kube, team, redisVersion="7.2")
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", NAMESPACE,
                                                                                         "redis.io/database=cache")}
    delay = ["sh", "-c", "redis-cli --no-auth-warning config set repl-diskless-sync-delay {}"]
    with Writer(kube_env, database) as writer:
        writer.wait_for_more(50)
        live_kube.exec(NAMESPACE, "cache-0", [*delay[:2], delay[2].format(60)])
        upgrade_database(database, version="7.4", actor="test")
        # Watch SYNC_PASSES reconciles during the full sync (or 50 s, whichever first: fewer on a busy machine;
        # a switchover ends the watch too, and the keys tell).
        deadline = time.monotonic() + 50
        passes_during_sync = 0
        while database.status.get("master") != "cache-1" and passes_during_sync < SYNC_PASSES \
                and time.monotonic() < deadline:
            syncing = replica_in_full_sync(live_kube)
            reconcile_once(database)
            passes_during_sync += syncing and replica_in_full_sync(live_kube)
            time.sleep(0.5)
        assert passes_during_sync >= 2 or database.status.get("master") == "cache-1", \
            f"the replaced replica was seen in its full sync during {passes_during_sync} reconcile(s) only"
        live_kube.exec(NAMESPACE, "cache-0", [*delay[:2], delay[2].format(0)])  # the sync may run now
        deadline = time.monotonic() + 150
        while True:
            reconcile_once(database)
            pods = kube_env.store.all_of("Pod", NAMESPACE, "redis.io/database=cache")
            if database.state == managed.DB_ACTIVE and database.status.get("rollout") == "done" \
                    and all(p["metadata"]["uid"] not in uids.values() and _pod_ready(p) for p in pods):
                break
            assert time.monotonic() < deadline, f"upgrade did not finish: {database.status}"
            time.sleep(0.5)
        writer.wait_for_more(50)
    pods = kube_env.store.all_of("Pod", NAMESPACE, "redis.io/database=cache")
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"redis:7.4"}
    assert database.status["master"] == "cache-1"  # switched over through the sentinels, never a blind restart
    assert writer.missing() == [], f"{len(writer.missing())} of {len(writer.acknowledged)} acknowledged keys lost"


def test_a_sharded_database_forms_one_redis_cluster_across_pods(kube_env, live_kube, team):
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, shardCount=3, replication=False, memorySize="300MB")
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    namespace = live_kube.client_pod()
    # A cluster client in another namespace starts at any pod's name and follows MOVED to the others.
    cli = ["redis-cli", "-c", "-h", f"cache-shard-0-0.cache-headless.{NAMESPACE}.svc.cluster.local"]
    password = {"REDISCLI_AUTH": secret_password(kube_env, database)}
    for key in ("a", "b", "c", "d"):
        assert live_kube.exec(namespace, "client", [*cli, "set", key, key], env=password).stdout.strip() == "OK"
    info = live_kube.exec(namespace, "client", [*cli, "cluster", "info"], env=password).stdout
    assert "cluster_state:ok" in info and "cluster_known_nodes:3" in info
    keys = [live_kube.exec(NAMESPACE, f"cache-shard-{i}-0", ["sh", "-c", 'redis-cli --no-auth-warning '
                                                             "dbsize"]).stdout.strip() for i in range(3)]
    assert sorted(keys) == ["1", "1", "2"]  # by slot: b on the first shard, c on the second, a and d on the third


def test_a_tls_database_answers_redis_cli_tls_through_its_service_and_refuses_plain(kube_env, live_kube, team):
    cluster = make_cluster(kube_env, namespace=NAMESPACE)
    converge(cluster, lambda c: c.state == managed.RUNNING)
    database = make_database(cluster, team, replication=False, tlsMode="enabled")
    converge(database, lambda d: d.state == managed.DB_ACTIVE)
    port = database.spec["databasePort"]
    key = live_kube.exec(NAMESPACE, "cache-0", ["sh", "-c", "stat -L -c %a /etc/redis-tls/server-*.key"])
    assert key.stdout.strip() in ("400", "440"), key  # the key: the pod's user (and its fsGroup) only

    def cli(*args: str) -> str:
        return live_kube.exec(NAMESPACE, "cache-0", ["sh", "-c", f"redis-cli -h cache -p {port} --no-auth-warning "
                                                     f"{' '.join(args)} ping"]).stdout.strip()
    assert live_kube.wait_for("the Service to answer over TLS",
                              lambda: cli("--tls", "--cacert", "/etc/redis-tls/ca.crt") == "PONG", 30)
    assert "PONG" not in cli()  # plain through the Service: refused
    assert "PONG" not in cli("--tls")  # a client that does not trust the cluster CA: refused too
