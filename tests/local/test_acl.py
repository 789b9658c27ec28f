"""Issue 14 item 2's acceptance: the operator's user/role/binding/ACL documents, realised with ACL SETUSER on
real redis-server processes behind sentinels and HAProxy; failover; the default user off."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest
import redis
from django.core.management import call_command

from access.models import AccessObject
from core.errors import SpecError
from databases.services import reveal_credentials, update_database
from manifests.documents import apply_documents
from tests.documents import read_access
from timeline.models import Event

from .conftest import settle
from .helpers import endpoint, endpoint_port, kill9, master_name, process_port, wait_until
from .test_private_files import too_open

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACCESS = read_access("rec", "orders", role="app-reader", management_role="DBViewer", email="alice@example.com")


def as_user(database, port: int | None = None) -> redis.Redis:
    password = AccessObject.objects.get(api_kind="RedisEnterpriseUser", name="alice").password
    return redis.Redis(host="127.0.0.1", port=port or endpoint_port(database), username="alice", password=password,
                       socket_timeout=2, socket_connect_timeout=1, decode_responses=True)


@pytest.mark.django_db
def test_the_operators_example_files_apply_unchanged(capsys):
    for name in ("reacl", "rerole", "reuser", "rerolebinding"):
        call_command("apply", "-f", str(EXAMPLES / f"{name}.yaml"))
    out = capsys.readouterr().out
    assert "redisenterpriseacl.app.redislabs.com/read-only created" in out
    assert "redisenterpriserolebinding.app.redislabs.com/db-reader created" in out
    assert AccessObject.objects.get(name="read-only").spec == {"acl": "+@read ~*"}
    call_command("get", "reuser", "-o", "yaml")
    listed = capsys.readouterr().out
    user = AccessObject.objects.get(name="some-user")
    assert "some-user@some-company.com" in listed and user.password not in listed
    call_command("get", "reacl")
    assert "read-only" in capsys.readouterr().out
    call_command("delete", "rerb", "db-reader")
    assert 'redisenterpriserolebinding.app.redislabs.com "db-reader" deleted' in capsys.readouterr().out
    assert not AccessObject.objects.filter(api_kind="RedisEnterpriseRoleBinding").exists()
    assert Event.objects.filter(object_kind="rolebinding", reason="Deleted").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("rule, message", [("+@read ~* >secret", "passwords"), ("+@nosuch", "unknown category"),
                                           ("+@read (~a", "'(' without ')'"), ("", "is empty"),
                                           ("get ~*", "not an ACL rule")])
def test_a_bad_acl_rule_is_a_field_error_and_changes_nothing(rule, message):
    document = f"apiVersion: app.redislabs.com/v1alpha1\nkind: RedisEnterpriseACL\nmetadata: {{name: x}}\n" \
               f"spec: {{acl: {rule!r}}}\n"
    with pytest.raises(SpecError) as caught:
        apply_documents(document, actor="test")
    assert any(message in text for text in caught.value.errors["documents[0].spec.acl"])
    assert not AccessObject.objects.exists()


def test_a_bound_user_reads_its_keys_only_survives_failover_and_default_user_off(make_database, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    database = make_database("orders", replication=True)
    apply_documents(ACCESS, actor="test")
    assert settle(database).state == "active"
    endpoint(database).set("app:x", "1")
    endpoint(database).set("other:x", "2")
    assert endpoint(database).wait(1, 2000) == 1
    alice = as_user(database)
    assert alice.get("app:x") == "1"
    with pytest.raises(redis.exceptions.NoPermissionError):
        alice.set("app:x", "2")
    with pytest.raises(redis.exceptions.NoPermissionError):
        alice.get("other:x")

    # every process has the user, so the new master after a failover serves it at once
    old_master = master_name(database)
    kill9(redis.Redis(port=process_port(database, old_master), password=database.password))
    assert wait_until(lambda: _reads(as_user(database)), timeout=15), "alice cannot read after the failover"
    settle(database)
    assert master_name(database) != old_master
    assert as_user(database, process_port(database, old_master)).get("app:x") == "1"  # restarted: users again

    # defaultUser: false: the default password is refused, the control plane still runs the database
    old_password = database.password
    update_database(database, spec={**database.spec, "defaultUser": False}, actor="test")
    database.refresh_from_db()
    assert settle(database).state == "active", database.status
    with pytest.raises(redis.AuthenticationError):
        endpoint(database, password=old_password).ping()
    assert as_user(database).get("app:x") == "1"
    credentials = reveal_credentials(database, actor="test")  # no default password to give any more
    assert credentials.password == "" and old_password not in credentials.redis_cli
    assert "--user" in credentials.redis_cli and any("defaultUser is false" in hint for hint in credentials.hints)
    database.refresh_from_db()
    assert database.status["processes"][master_name(database)]["role"] == "master"
    assert settle(database).state == "active"  # health checks and sentinels use the control plane's own user
    passwords = [old_password, AccessObject.objects.get(name="alice").password]
    assert not Event.objects.filter(message__regex="|".join(passwords)).exists()
    assert_no_leak(AccessObject.objects.get(name="alice").password, tmp_path / "var", caplog.text)

    # and back on: the database password works again, the control plane's own user is removed
    update_database(database, spec={**database.spec, "defaultUser": True}, actor="test")
    database.refresh_from_db()
    assert settle(database).state == "active", database.status
    assert endpoint(database).ping() and as_user(database).get("app:x") == "1"
    assert "cp-admin" not in " ".join(endpoint(database).acl_users())


def assert_no_leak(password: str, var: Path, logged: str) -> None:
    """The user's password is in no log record, no file under var/ (configs hold only its hash), no process's
    command line, and every file there is private."""
    assert password not in logged
    assert too_open(var) == []
    for path in var.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            assert password.encode() not in cmdline.read_bytes()


def _reads(client: redis.Redis) -> bool:
    try:
        return client.get("app:x") == "1"
    except redis.RedisError:
        return False


def test_a_sharded_database_with_the_default_user_off_reshards_and_serves_its_users(make_database):
    """Every shard has the users; slot moves and cluster checks use the control plane's own user."""
    from redis.cluster import RedisCluster

    database = make_database("orders", shardCount=2, memorySize="300MB", defaultUser=False)
    apply_documents(read_access("rec", "orders", acl="+@read +set ~app:*"), actor="test")
    assert settle(database).state == "active"
    password = AccessObject.objects.get(name="alice").password
    alice = RedisCluster(host="127.0.0.1", port=endpoint_port(database), username="alice", password=password,
                         decode_responses=True, socket_timeout=5)
    for i in range(200):
        alice.set(f"app:{i}", i)
    update_database(database, spec={**database.spec, "shardCount": 3}, actor="test")
    database.refresh_from_db()
    assert settle(database, timeout=90).state == "active", database.status
    alice = RedisCluster(host="127.0.0.1", port=endpoint_port(database), username="alice", password=password,
                         decode_responses=True, socket_timeout=5)
    assert all(alice.get(f"app:{i}") == str(i) for i in range(200))
    with pytest.raises(redis.AuthenticationError):
        endpoint(database).ping()


def test_a_users_password_is_read_from_the_secret_its_password_secrets_name(make_database, monkeypatch, tmp_path,
                                                                             caplog):
    """passwordSecrets on the local target: the stored secret (`manage.py backup_secret NAME --password`); a
    missing one leaves the user out with a status error, never a generated password."""
    from rest_framework.test import APIClient

    from access.services import rotate_password

    caplog.set_level(logging.DEBUG)
    database = make_database("orders")
    apply_documents(read_access("rec", "orders", role="app-reader", management_role="DBViewer",
                                user_spec={"passwordSecrets": [{"name": "alice-password"}]}), actor="test")
    assert settle(database).state == "active"
    alice = AccessObject.objects.get(name="alice")
    assert alice.status["passwordSecret"] == "alice-password" and "does not exist" in alice.status["error"]
    generated = alice.password
    with pytest.raises(redis.AuthenticationError):  # the user is left out: no generated password works
        redis.Redis(port=endpoint_port(database), username="alice", password=generated).ping()
    assert Event.objects.filter(object_name="alice", reason="PasswordSecretMissing").count() == 1
    assert settle(database).state == "active"  # a missing user secret does not stop the database's reconcile
    assert Event.objects.filter(object_name="alice", reason="PasswordSecretMissing").count() == 1  # said once

    password = "chosen-by-alice-0123456789"
    monkeypatch.setenv("USER_PASSWORD", password)
    call_command("backup_secret", "alice-password", "--password")
    endpoint(database).set("app:x", "1")
    assert settle(database).state == "active"
    assert redis.Redis(port=endpoint_port(database), username="alice", password=password).get("app:x") == b"1"
    alice.refresh_from_db()
    assert alice.status == {"passwordSecret": "alice-password"} and alice.password == password
    with pytest.raises(SpecError, match="comes from secret alice-password"):
        rotate_password(alice, actor="test")

    staff = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model().objects.create_user(
        "root", is_staff=True)
    api = APIClient()
    api.force_authenticate(staff)
    listed = api.get("/api/v1/access/users/").json()
    assert password not in str(listed) and "alice-password" in str(listed)
    assert not Event.objects.filter(message__contains=password).exists()
    assert_no_leak(password, tmp_path / "var", caplog.text)
