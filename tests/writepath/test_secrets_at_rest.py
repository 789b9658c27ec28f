"""Passwords are encrypted at rest and API tokens kept as digests; keys rotate without downtime."""
from __future__ import annotations

import hashlib
import io
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from clusters.models import Cluster
from databases.models import Database
from targets.encryption import decrypt, encrypt, encrypt_column

pytestmark = pytest.mark.django_db

SPEC = {"memorySize": "100MB"}


@pytest.fixture
def database(cluster, team):
    from databases.services import create_database

    return create_database(cluster=cluster, name="orders", spec=dict(SPEC), team=team, actor="test").obj


def stored(table: str, column: str, name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE name = %s", [name])
        return cursor.fetchone()[0]


def test_the_column_holds_ciphertext_that_only_the_key_opens(database, settings):
    raw = stored("databases_database", "password", "orders")
    assert database.password not in raw
    fernet = Fernet(settings.CONTROLPLANE_ENCRYPTION_KEYS[0].encode())
    assert fernet.decrypt(raw.encode()).decode() == database.password
    admin_raw = stored("clusters_cluster", "admin_password", "rec")
    assert database.cluster.admin_password not in admin_raw
    assert fernet.decrypt(admin_raw.encode()).decode() == database.cluster.admin_password
    assert Database.objects.get(pk=database.pk).password == database.password


def test_rotation_reencrypts_with_the_newest_key(database, settings):
    old_key = settings.CONTROLPLANE_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    password, admin_password = database.password, database.cluster.admin_password

    settings.CONTROLPLANE_ENCRYPTION_KEYS = [new_key, old_key]  # step 1: new key first, old still listed
    assert Database.objects.get(pk=database.pk).password == password
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)  # step 2
    assert "re-encrypted 3 value(s)" in out.getvalue()  # both passwords and the cluster CA (empty until used)

    settings.CONTROLPLANE_ENCRYPTION_KEYS = [new_key]  # step 3: the old key is gone
    assert Database.objects.get(pk=database.pk).password == password
    assert Cluster.objects.get(pk=database.cluster.pk).admin_password == admin_password

    settings.CONTROLPLANE_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Database.objects.get(pk=database.pk)


def test_a_password_changed_during_rotation_is_not_overwritten(database, settings):
    """Rotation writes a value only if it is still the one it read."""
    from targets.encryption import fernet

    raw = stored("databases_database", "password", "orders")
    Database.objects.filter(pk=database.pk).update(password="changed-meanwhile")
    rotated = fernet().rotate(raw.encode()).decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE databases_database SET password = %s WHERE id = %s AND password = %s",
                       [rotated, database.pk, raw])
        assert cursor.rowcount == 0
    assert Database.objects.get(pk=database.pk).password == "changed-meanwhile"


def test_the_migration_encrypts_passwords_stored_in_the_clear(database):
    encrypt_column("databases_database", "password", decrypt)  # as before the migration
    assert stored("databases_database", "password", "orders") == database.password
    encrypt_column("databases_database", "password", encrypt)
    assert stored("databases_database", "password", "orders") != database.password
    assert Database.objects.get(pk=database.pk).password == database.password


def test_the_migration_keeps_legacy_tokens_working_and_erases_them(member):
    """DRF authtoken rows (keys in the clear) become digests; the clear keys are deleted."""
    import importlib

    from rest_framework.test import APIClient

    migration = importlib.import_module("accounts.migrations.0002_hashed_api_tokens")
    legacy_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE authtoken_token ("key" varchar(40) PRIMARY KEY, user_id integer, '
                       "created datetime)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [legacy_key, member.pk, "2026-01-01"])
    migration.hash_legacy_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert member.api_tokens.get().digest == hashlib.sha256(legacy_key.encode()).hexdigest()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {legacy_key}")
    assert client.get("/api/v1/databases/").status_code == 200


def test_rotation_covers_sealed_kubeconfigs(db, settings):
    from targets.models import Target
    from targets.sealing import seal

    target = Target.objects.create(name="prod", kind=Target.KUBERNETES, kubeconfig_sealed=seal("apiVersion: v1"))
    old_key, new_key = settings.CONTROLPLANE_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.CONTROLPLANE_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_key", stdout=io.StringIO())
    settings.CONTROLPLANE_ENCRYPTION_KEYS = [new_key]
    assert Target.objects.get(pk=target.pk).connection_settings()["kubeconfig"] == "apiVersion: v1"


def test_kubeconfigs_sealed_with_the_old_derived_key_are_resealed(db, settings):
    """Before CONTROLPLANE_ENCRYPTION_KEYS, an unset key meant one derived from SECRET_KEY."""
    import base64
    import importlib

    from targets.models import Target

    derived = Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"sealing:{settings.SECRET_KEY}".encode()).digest()))
    target = Target.objects.create(name="prod", kind=Target.KUBERNETES,
                                   kubeconfig_sealed=derived.encrypt(b"apiVersion: v1").decode())
    migration = importlib.import_module("targets.migrations.0004_sealed_field")
    migration.reseal_with_the_configured_keys(apps, None)
    assert Target.objects.get(pk=target.pk).connection_settings()["kubeconfig"] == "apiVersion: v1"


def test_the_cluster_ca_key_is_ciphertext_in_its_column(database):
    from clusters.certificates import ca_certificate, cluster_ca

    certificate = ca_certificate(database.cluster)
    raw = stored("clusters_cluster", "tls_ca", "rec")
    assert "PRIVATE KEY" not in raw and "BEGIN" not in raw
    assert cluster_ca(Cluster.objects.get(name="rec")).cert_pem == certificate


def test_a_data_plane_users_password_is_ciphertext_at_rest():
    """Issue 14: a RedisEnterpriseUser's password (generated here) is encrypted like database passwords."""
    from access.models import AccessObject
    from access.services import apply_object

    user = apply_object("RedisEnterpriseUser", name="carol", namespace=None, spec={"username": "carol"},
                        actor="test").obj
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM access_accessobject WHERE name = %s", ["carol"])
        raw = cursor.fetchone()[0]
    assert user.password not in raw and decrypt(raw) == user.password
    assert AccessObject.objects.get(pk=user.pk).password == user.password
