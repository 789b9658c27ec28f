"""Issue 14 on Kubernetes with pods that run for real: `defaultUser` changed in place, live, on a replicated
database under a writer and through a failover, and `defaultUser: false` on a sharded one (a Redis Cluster) that
reshards, then is turned on in place. One cluster's pods serve both (pod-runner tests are slow). Needs root, as
test_running_pods.py.
"""
from __future__ import annotations

import base64
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from access.internal import admin_password
from access.models import AccessObject
from core.errors import TargetError
from databases.services import update_database
from kube.rigger import follow_masters
from manifests.documents import apply_documents
from targets import managed
from timeline.models import Event

from ..documents import read_access
from .emulator import _pod_ready
from .test_lifecycle import make_database, run
from .test_running_pods import NAMESPACE, Writer, converge, live_database

pytestmark = pytest.mark.django_db(transaction=True)

READER = [{"type": "redis-enterprise", "role": "reader", "acl": "app-read"}]  # alice: +@read ~app:*


class AdminWriter(Writer):
    """The running_pods writer (WAIT 1 acknowledges a key), logged in as the control plane's own user: it works
    whether the default user is on or off, so it writes on through every change."""

    def __init__(self, kube_env, database):
        super().__init__(kube_env, database)
        self.admin = admin_password(database)

    def connect(self) -> redis.Redis:
        return redis.Redis(host=self.address[0], port=self.address[1], username="cp-admin", password=self.admin,
                           socket_timeout=3, socket_connect_timeout=3, decode_responses=True)


def _secret(kube_env, name: str) -> dict[str, str]:
    data = kube_env.store.find("Secret", NAMESPACE, name)["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def _acl_events(database, text: str) -> int:
    return Event.objects.filter(object_kind="database", object_id=database.pk, reason="AclApplied",
                                message__contains=text).count()


def test_default_user_changed_in_place_on_running_pods_and_off_on_a_resharded_cluster(kube_env, live_kube, team):
    database = live_database(kube_env, live_kube, team, rolesPermissions=READER)
    sharded = make_database(database.cluster, team, name="orders", shardCount=2, replication=False,
                            memorySize="200MB", defaultUser=False, rolesPermissions=READER)
    run(sharded)  # its pods start while the first database is checked
    apply_documents(read_access(NAMESPACE, "elsewhere"), actor="test")  # alice, granted through rolesPermissions
    flipped_live(kube_env, live_kube, database)
    off_on_a_resharded_cluster(kube_env, live_kube, sharded)
    assert live_kube.errors == []


def flipped_live(kube_env, live_kube, database) -> None:
    """true -> false -> (master pod deleted) -> true, with no pod restarted by the change and no acknowledged
    write lost; AUTH with the database password fails while the default user is off, on every pod."""
    password = database.password
    address = (lambda s: (s["spec"]["clusterIP"], int(s["spec"]["ports"][0]["port"])))(
        kube_env.store.find("Service", NAMESPACE, database.name))
    alice = AccessObject.objects.get(name="alice").password
    uids = {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", NAMESPACE, "redis.io/database=cache")}

    def login(username: str | None, secret: str) -> redis.Redis:
        return redis.Redis(host=address[0], port=address[1], username=username, password=secret, socket_timeout=3,
                           decode_responses=True)

    def refused(username: str | None, secret: str) -> bool:
        try:
            login(username, secret).ping()
        except redis.AuthenticationError:
            return True
        return False

    def in_pod(pod: str, *command: str) -> str:
        return live_kube.exec(NAMESPACE, pod, ["redis-cli", "--user", "cp-admin", "--no-auth-warning", *command],
                              env={"REDISCLI_AUTH": admin_password(database)}).stdout

    # The pods started with the users as the ACL sync writes them: nothing to redo for the default user or cp-admin.
    assert _acl_events(database, "default") == 0 and _acl_events(database, "cp-admin") == 0
    login(None, password).set("app:x", "1")
    converge(database, lambda d: _acl_events(d, "alice") >= 2)
    before = login(None, password)  # a connection opened while the default user is on
    assert before.ping()
    with AdminWriter(kube_env, database) as writer:
        writer.wait_for_more(50)
        update_database(database, spec={**database.spec, "defaultUser": False}, actor="test")
        converge(database, lambda d: _acl_events(d, "default user off") >= 2)
        assert refused(None, password)  # AUTH with the old default password fails
        with pytest.raises(redis.ConnectionError):
            before.ping()  # and a connection logged in before is closed
        assert "password" not in _secret(kube_env, f"redb-{database.name}")  # as with the operator
        assert login("alice", alice).get("app:x") == "1"  # a bound user keeps working
        for pod in ("cache-0", "cache-1"):
            assert "user default off" in in_pod(pod, "acl", "list")
        writer.wait_for_more(50)
        assert {p["metadata"]["uid"] for p in kube_env.store.all_of("Pod", NAMESPACE,
                                                                    "redis.io/database=cache")} == uids  # live

        # The master pod deleted with the default user off: the sentinels (now logging in as cp-admin) fail over;
        # the pod comes back from the Secret as it is now (no default password: the default user off).
        live_kube.delete_pod(NAMESPACE, "cache-0")
        deadline = time.monotonic() + 90
        while True:
            follow_masters()
            try:
                run(database)
            except TargetError:
                database.refresh_from_db()
            pods = kube_env.store.all_of("Pod", NAMESPACE, "redis.io/database=cache")
            if database.state == managed.DB_ACTIVE and database.status.get("master") == "cache-1" \
                    and len(pods) == 2 and all(_pod_ready(p) for p in pods):
                break
            assert time.monotonic() < deadline, f"never failed over: {database.status}; {live_kube.errors}\n" \
                + live_kube.logs(NAMESPACE, "cache-0") + live_kube.logs(NAMESPACE, "cache-1")
            time.sleep(0.5)
        assert "user default off" in in_pod("cache-0", "acl", "list")  # started off
        writer.wait_for_more(50)

        update_database(database, spec={**database.spec, "defaultUser": True}, actor="test")
        converge(database, lambda d: _acl_events(d, "default user on") >= 2)
        assert login(None, password).get("app:x") == "1"  # the database password works again, on the master
        assert _secret(kube_env, f"redb-{database.name}")["password"] == password
        for pod in ("cache-0", "cache-1"):
            assert "PONG" in live_kube.exec(NAMESPACE, pod, ["redis-cli", "--no-auth-warning", "ping"],
                                            env={"REDISCLI_AUTH": password}).stdout, pod
        writer.wait_for_more(50)
    assert writer.missing() == [], f"{len(writer.missing())} of {len(writer.acknowledged)} acknowledged keys lost"
    print(f"{len(writer.acknowledged)} acknowledged writes through two changes and a failover, "
          f"{writer.errors} client errors retried")
    assert password not in " ".join(Event.objects.values_list("message", flat=True))


def off_on_a_resharded_cluster(kube_env, live_kube, database) -> None:
    """defaultUser: false on a Redis Cluster in pods: it forms and reshards 2 -> 3 logging in as cp-admin (MEET,
    MIGRATE ... AUTH2); alice reads her keys on every shard; the default user is refused everywhere."""
    converge(database, lambda d: d.state == managed.DB_ACTIVE, timeout=120)
    assert "password" not in _secret(kube_env, f"redb-{database.name}")

    def client(username: str | None, secret: str) -> RedisCluster:
        first = kube_env.store.find("Pod", NAMESPACE, f"{database.name}-shard-0-0")["status"]["podIP"]
        return RedisCluster(startup_nodes=[ClusterNode(first, 6379)], username=username, password=secret,
                            decode_responses=True, socket_timeout=5)

    admin = client("cp-admin", admin_password(database))
    admin.mset_nonatomic({f"app:{n}": str(n) for n in range(300)})
    admin.close()
    update_database(database, spec={**database.spec, "shardCount": 3, "memorySize": "300MB"}, actor="test")
    converge(database, lambda d: d.state == managed.DB_ACTIVE
             and {s["metadata"]["name"] for s in kube_env.store.all_of("StatefulSet", NAMESPACE)
                  if s["metadata"]["name"].startswith("orders-shard-")} == {f"orders-shard-{i}" for i in range(3)},
             timeout=180)
    alice = client("alice", AccessObject.objects.get(name="alice").password)
    assert alice.mget_nonatomic([f"app:{n}" for n in range(300)]) == [str(n) for n in range(300)]
    with pytest.raises(redis.exceptions.NoPermissionError):
        alice.set("app:0", "x")
    alice.close()
    for shard in range(3):
        pod = f"{database.name}-shard-{shard}-0"
        keys = live_kube.exec(NAMESPACE, pod, ["redis-cli", "--user", "cp-admin", "--no-auth-warning", "dbsize"],
                              env={"REDISCLI_AUTH": admin_password(database)}).stdout.strip()
        assert int(keys) > 0, (pod, keys)  # the third shard took its share
        old = live_kube.exec(NAMESPACE, pod, ["redis-cli", "--no-auth-warning", "ping"],
                             env={"REDISCLI_AUTH": database.password})
        assert "WRONGPASS" in old.stdout + old.stderr, pod  # the default user is off on every node

    # Turned on in place on the Redis Cluster too: the database password works on every node.
    update_database(database, spec={**database.spec, "defaultUser": True}, actor="test")
    converge(database, lambda d: _acl_events(d, "default user on") >= 3)
    for shard in range(3):
        pod = f"{database.name}-shard-{shard}-0"
        assert "PONG" in live_kube.exec(NAMESPACE, pod, ["redis-cli", "--no-auth-warning", "ping"],
                                        env={"REDISCLI_AUTH": database.password}).stdout, pod
