"""The data plane with real Redis: CONFIG SET of live settings, sentinel registration, and the
services rigger following a real sentinel failover.

The emulator's pods run no process, so the pods' data-plane names are mapped (target setting
`dataplane_addresses`) to real redis-server processes, and the quorum members' names to a real
redis-sentinel, all on 127.0.0.1. Kubernetes objects still come from the emulator over HTTP.
"""
from __future__ import annotations

import base64
import copy
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from kubernetes import client as k8s

from databases.services import update_database
from kube.podspec import CONFIG_HASH_ANNOTATION
from kube.rigger import follow_masters
from targets import managed

from ..documents import read_access
from ..servers import free_port, redis_server, wait_for_port
from .test_lifecycle import make_database, run, running_cluster

pytestmark = pytest.mark.django_db(transaction=True)

POD_DOMAIN = "cache-headless.redis.svc.cluster.local"
SENTINEL_DOMAIN = "rec-headless.redis.svc.cluster.local"


@contextmanager
def sentinel_process(password: str):
    binary = shutil.which("redis-sentinel") or shutil.which("redis-server")
    workdir = Path(tempfile.mkdtemp(prefix="cp-test-sentinel-"))
    port = free_port()
    (workdir / "sentinel.conf").write_text(f'port {port}\nbind 127.0.0.1\ndir {workdir}\nrequirepass "{password}"\n')
    args = [binary, str(workdir / "sentinel.conf")] + ([] if binary.endswith("sentinel") else ["--sentinel"])
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def wired(kube_env, team):
    """A running cluster and an active replicated database whose pods are real redis-servers."""
    cluster = running_cluster(kube_env)
    database = make_database(cluster, team, redisVersion="7.2")
    password = database.password
    auth = ("--requirepass", password, "--masterauth", password)
    with redis_server(*auth) as master_url:
        master_port = port_of(master_url)
        with redis_server(*auth, "--replicaof", "127.0.0.1", str(master_port)) as replica_url, \
                sentinel_process(cluster.admin_password) as sentinel_port:
            addresses = {f"cache-0.{POD_DOMAIN}:6379": f"127.0.0.1:{master_port}",
                         f"cache-1.{POD_DOMAIN}:6379": f"127.0.0.1:{port_of(replica_url)}"}
            addresses.update({f"rec-{i}.{SENTINEL_DOMAIN}:26379": f"127.0.0.1:{sentinel_port}" for i in range(3)})
            kube_env.target.settings = {**kube_env.target.settings, "dataplane_addresses": addresses}
            kube_env.target.save()
            database.cluster.target = kube_env.target
            ports = {"cache-0": master_port, "cache-1": port_of(replica_url)}
            yield database, ports, sentinel_port


def client(port: int, password: str) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True, socket_timeout=3)


def events(obj, reason):
    from timeline.models import Event

    return list(Event.objects.filter(object_kind=obj.kind, object_id=obj.pk, reason=reason)
                .values_list("message", flat=True))


def test_live_settings_are_applied_with_config_set_without_restart(kube_env, wired):
    database, ports, sentinel_port = wired
    run(database)
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE, database.status
    for port in ports.values():
        assert client(port, database.password).config_get("maxmemory")["maxmemory"] == str(100 * 1024**2)
    assert events(database, "SentinelsRegistered")
    sentinel = client(sentinel_port, database.cluster.admin_password)
    assert sentinel.execute_command("SENTINEL", "get-master-addr-by-name", "cache")[1] == str(ports["cache-0"])
    # The database's pods ask as their own sentinel user (no cluster password): they may read, not fail over.
    as_pod = redis.Redis(host="127.0.0.1", port=sentinel_port, username="db-cache", password=database.password,
                         decode_responses=True)
    assert as_pod.execute_command("SENTINEL", "get-master-addr-by-name", "cache")[1] == str(ports["cache-0"])
    with pytest.raises(redis.exceptions.NoPermissionError):
        as_pod.execute_command("SENTINEL", "FAILOVER", "cache")

    uids = {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis", "redis.io/database=cache")}
    update_database(database, spec={**database.spec, "memorySize": "200MB", "evictionPolicy": "allkeys-lru"},
                    actor="test")
    run(database)
    run(database)
    assert database.state == managed.DB_ACTIVE
    for port in ports.values():
        config = client(port, database.password).config_get("maxmemory*")
        assert config["maxmemory"] == str(200 * 1024**2) and config["maxmemory-policy"] == "allkeys-lru"
    assert {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", "redis", "redis.io/database=cache")} == uids
    kube_env.emulator.reset_requests()
    run(database)
    assert kube_env.emulator.writes() == []  # applied once; an idle reconcile writes nothing


def test_service_follows_the_master_after_a_sentinel_failover(kube_env, wired):
    database, ports, sentinel_port = wired
    run(database)
    kube_env.settle()
    run(database)
    assert database.status["master"] == "cache-0"
    sentinel = client(sentinel_port, database.cluster.admin_password)
    deadline = time.monotonic() + 20
    while True:  # the sentinel needs a moment to discover the replica before it can fail over
        try:
            sentinel.execute_command("SENTINEL", "FAILOVER", "cache")
            break
        except redis.ResponseError:
            assert time.monotonic() < deadline, "sentinel never saw a good replica"
            time.sleep(0.2)
    while sentinel.execute_command("SENTINEL", "get-master-addr-by-name", "cache")[1] != str(ports["cache-1"]):
        assert time.monotonic() < deadline, "failover did not finish"
        time.sleep(0.1)

    assert follow_masters() == 1  # the rigger's fast loop notices and reconciles the database
    database.refresh_from_db()
    assert database.status["master"] == "cache-1"
    roles = {p["metadata"]["name"]: p["metadata"]["labels"]["redis.io/role"]
             for p in kube_env.store.all_of("Pod", "redis", "redis.io/database=cache")}
    assert roles == {"cache-0": "replica", "cache-1": "master"}
    assert any("cache-0 to cache-1" in m for m in events(database, "MasterChanged"))
    assert follow_masters() == 0  # nothing moved since


def test_cluster_is_running_only_while_its_quorum_answers(kube_env, wired):
    database, _, sentinel_port = wired
    cluster = database.cluster
    run(cluster)
    assert cluster.state == managed.RUNNING  # the three quorum names reach a live sentinel
    addresses = dict(kube_env.target.settings["dataplane_addresses"])
    for i in range(3):
        addresses[f"rec-{i}.{SENTINEL_DOMAIN}:26379"] = f"127.0.0.1:{free_port()}"  # nobody listens there
    kube_env.target.settings = {**kube_env.target.settings, "dataplane_addresses": addresses}
    kube_env.target.save()
    run(cluster)
    assert cluster.state == managed.INITIALIZING
    assert cluster.status["conditions"][0]["reason"] == "QuorumNotAnswering"


def test_upgrade_switches_the_master_over_through_the_sentinels(kube_env, wired):
    from core.errors import TargetError
    from databases.services import upgrade_database

    database, ports, sentinel_port = wired
    run(database)
    kube_env.settle()
    run(database)
    assert database.status["master"] == "cache-0"
    upgrade_database(database, version="7.4", actor="test")
    deadline = time.monotonic() + 40
    while True:
        try:
            run(database)
        except TargetError:  # e.g. the sentinel has not discovered the replica yet: retried, as Celery would
            database.refresh_from_db()
        if database.state == managed.DB_ACTIVE and database.status["rollout"] == "done":
            break
        assert time.monotonic() < deadline, database.status
        kube_env.settle()
        time.sleep(0.2)
    sentinel = client(sentinel_port, database.cluster.admin_password)
    assert sentinel.execute_command("SENTINEL", "get-master-addr-by-name", "cache")[1] == str(ports["cache-1"])
    assert database.status["master"] == "cache-1"
    rolled = " | ".join(events(database, "RollingUpdate"))
    assert "replacing replica cache-1" in rolled and "switching master cache-0 over" in rolled


def test_a_database_is_back_after_a_recovery_once_its_labelled_master_answers_as_master(kube_env, wired):
    """What a cluster recovery waits for on Kubernetes (engine/recovery.py): the pod labelled master answers ROLE
    master through the data plane; a labelled pod that does not answer is not back."""
    from core.drivers import driver_for

    database, ports, _ = wired
    run(database)
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE, database.status
    assert driver_for(kube_env.target).database_is_back(database)
    addresses = {**kube_env.target.settings["dataplane_addresses"],
                 f"cache-0.{POD_DOMAIN}:6379": f"127.0.0.1:{free_port()}"}  # nothing listens there
    kube_env.target.settings = {**kube_env.target.settings, "dataplane_addresses": addresses}
    kube_env.target.save()
    assert not driver_for(kube_env.target).database_is_back(database)


def test_data_plane_users_are_set_on_every_pod_and_follow_role_changes(kube_env, kube_client, wired):
    """Issue 14 on Kubernetes: a user bound through a role gets its ACL on master and replica pods."""
    from access.models import AccessObject
    from manifests.documents import apply_documents

    database, ports, _ = wired
    apply_documents(read_access("redis", "cache"), actor="test")
    run(database)
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE, database.status
    password = AccessObject.objects.get(name="alice").password
    client(ports["cache-0"], database.password).set("app:x", "1")
    for port in ports.values():
        alice = redis.Redis(host="127.0.0.1", port=port, username="alice", password=password, decode_responses=True)
        assert alice.get("app:x") in ("1", None)  # the replica may not have it yet; the right to read it is what counts
        with pytest.raises(redis.exceptions.NoPermissionError):
            alice.set("app:x", "2")
    assert events(database, "AclApplied")

    # passwordSecrets: the Secret in the namespace (key `password`) is the password on every pod
    chosen = "from-the-secret-0123456789"
    k8s.CoreV1Api(kube_client).create_namespaced_secret("redis", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "alice-pw"},
        "data": {"password": base64.b64encode(chosen.encode()).decode()}})
    apply_documents("""
apiVersion: app.redislabs.com/v1alpha1
kind: RedisEnterpriseUser
metadata: {name: alice, namespace: redis}
spec: {username: alice, passwordSecrets: [{name: alice-pw}]}
""", actor="test")
    run(database)
    for port in ports.values():
        assert redis.Redis(host="127.0.0.1", port=port, username="alice", password=chosen).get("app:x") in (b"1", None)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port, username="alice", password=password).get("app:x")
    assert AccessObject.objects.get(name="alice").status == {"passwordSecret": "alice-pw"}
    password = chosen
    AccessObject.objects.get(name="alice-reads").delete()  # as `manage.py delete rerb` does, without the event
    run(database)
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=ports["cache-0"], username="alice", password=password).ping()


def test_default_user_turned_off_and_on_in_place_on_pods_started_before_their_own_user(kube_env, wired):
    """The redis-servers here start as pods rendered before the pods had their own user did (the database password
    only, no cp-admin) and the sentinel watches them as the default user: the first pass gives every pod cp-admin,
    then moves the sentinel onto it. `defaultUser: false` then turns the default user off (its connections
    closed), `true` on again with its password; the sentinel keeps logging in as cp-admin throughout."""
    from access.internal import admin_password

    database, ports, sentinel_port = wired
    sentinel = client(sentinel_port, database.cluster.admin_password)
    sentinel.execute_command("SENTINEL", "MONITOR", "cache", "127.0.0.1", ports["cache-0"], 2)
    sentinel.execute_command("SENTINEL", "SET", "cache", "auth-pass", database.password)

    def sentinel_logins() -> set[str]:
        listing = redis.Redis(host="127.0.0.1", port=ports["cache-0"], username="cp-admin",
                              password=admin_password(database)).execute_command("CLIENT", "LIST").decode()
        return {part[5:] for line in listing.splitlines() if "name=sentinel-" in line
                for part in line.split() if part.startswith("user=")}

    def as_default(port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, password=database.password, decode_responses=True,
                           username=None, socket_timeout=3)

    run(database)
    kube_env.settle()
    run(database)
    assert database.state == managed.DB_ACTIVE, database.status
    assert any("users set: cp-admin" in said for said in events(database, "AclApplied"))
    def sentinel_as_cp_admin() -> None:  # it reconnects at once after SENTINEL SET
        deadline = time.monotonic() + 10
        while sentinel_logins() != {"cp-admin"}:
            assert time.monotonic() < deadline, sentinel_logins()
            time.sleep(0.2)
    sentinel_as_cp_admin()

    opened = as_default(ports["cache-1"])
    assert opened.ping()
    # A pod of an older template (a rollout under way) may log in as the default user: it stays on meanwhile.
    stale = copy.deepcopy(kube_env.store.find("Pod", "redis", "cache-1"))
    stale["metadata"]["annotations"][CONFIG_HASH_ANNOTATION] = "rendered-before"
    kube_env.store.put_kind("Pod", stale)
    update_database(database, spec={**database.spec, "defaultUser": False}, actor="test")
    run(database)
    waiting = [c for c in database.status["conditions"] if c["type"] == "DefaultUser"]
    assert waiting and waiting[0]["reason"] == "WaitingForRollout" and "cache-0" in waiting[0]["message"], waiting
    assert as_default(ports["cache-0"]).ping() and not [m for m in events(database, "AclApplied") if "off" in m]
    for _ in range(10):  # the rollout replaces cache-1 (the simulated controller brings it back current)
        kube_env.settle()
        run(database)
        if any("default user off" in m for m in events(database, "AclApplied")):
            break
    assert sorted(m.split(":")[0] for m in events(database, "AclApplied") if "default user off" in m) == [
        "cache-0", "cache-1"]
    for port in ports.values():
        with pytest.raises(redis.AuthenticationError):
            as_default(port).ping()
    with pytest.raises(redis.ConnectionError):
        opened.ping()  # logged in before: closed
    assert "password" not in (kube_env.store.find("Secret", "redis", "redb-cache")["data"])
    sentinel_as_cp_admin()

    said = len(events(database, "AclApplied"))
    update_database(database, spec={**database.spec, "defaultUser": True}, actor="test")
    run(database)
    assert sorted(m.split(":")[0] for m in events(database, "AclApplied")[said:] if "default user on" in m) == [
        "cache-0", "cache-1"]
    for port in ports.values():
        assert as_default(port).ping()
    assert database.state == managed.DB_ACTIVE, database.status
