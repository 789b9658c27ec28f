"""Secrets encrypted at rest: database and cluster passwords in the SQL database.

`EncryptedTextField` stores Fernet tokens (AES-128-CBC + HMAC-SHA256) made with the keys in
`settings.CONTROLPLANE_ENCRYPTION_KEYS`: the first key encrypts, every key decrypts (MultiFernet),
so a new key is put first, `manage.py rotate_encryption_key` re-encrypts every stored secret with
it, and the old key is then dropped (docs/security.md). Code reads and writes plain strings; only
the column holds ciphertext, so lookups by value are impossible by design.
"""
from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CONTROLPLANE_ENCRYPTION_KEYS))


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"CONTROLPLANE_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}"
                                   ) from None


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "a stored secret cannot be decrypted with any key in CONTROLPLANE_ENCRYPTION_KEYS; the key that "
            "encrypted it is missing (keep old keys listed until `manage.py rotate_encryption_key` ran)"
        ) from None


class EncryptedTextField(models.TextField):
    """A string encrypted in the database, plain in Python. Not filterable by value."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)


class SealedTextField(models.TextField):
    """A token made by `encrypt`, written and read explicitly (targets/sealing.py); "" when empty.

    Its own class so `rotate_encryption_key` finds it with the other encrypted columns.
    """


def encrypt_column(table: str, column: str, transform) -> None:
    """Apply `transform` to every value of a column with raw SQL (migrations: plain <-> encrypted)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {quote(column)} FROM {quote(table)}")  # noqa: S608 (quoted identifiers)
        for row_id, value in cursor.fetchall():
            if value is not None:
                cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",
                               [transform(value), row_id])


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, column) holding an encrypted secret."""
    return [(model, field.column) for model in apps.get_models() for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField | SealedTextField)]


def rotate_all() -> int:
    """Re-encrypt every stored secret with the first key; returns how many values changed.

    Works on the raw column (MultiFernet.rotate) and writes each value only if it is still the one
    read, so a password changed meanwhile is never overwritten with its old value.
    """
    keys = fernet()
    changed = 0
    quote = connection.ops.quote_name
    for model, column in encrypted_fields():
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {quote(column)} FROM {table}")  # noqa: S608 (quoted identifiers)
            rows = cursor.fetchall()
        for row_id, token in rows:
            if not token:
                continue
            rotated = keys.rotate(token.encode()).decode()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {quote(column)} = %s WHERE {pk} = %s AND {quote(column)} = %s",
                               [rotated, row_id, token])
                changed += cursor.rowcount
    return changed
