"""How the control plane itself logs in to a database's processes.

With the default user on, as `default` with the database password. With `defaultUser: false` the default
user is off, and the control plane (sentinels, health checks, replication, exporter, backups) uses its own
user `cp-admin`, whose password is stored here, encrypted, and is never shown: the database password
clients knew stops working everywhere. On Kubernetes every pod has that user whether the default user is on or
off (the pods log in as it: kube/dataplane.py `pod_login`), so `defaultUser` changes live there.
"""
from __future__ import annotations

from dataclasses import dataclass

from .models import InternalLogin
from .plan import ADMIN_USER


@dataclass(frozen=True)
class Login:
    username: str | None  # None: the default user
    password: str


def admin_password(database) -> str:
    return InternalLogin.objects.get_or_create(database=database)[0].password


def login(database) -> Login:
    """The login the control plane uses for `database` now."""
    if database.typed_spec.default_user:
        return Login(None, database.password)
    return Login(ADMIN_USER, admin_password(database))


def fallback_logins(database) -> tuple[tuple[str | None, str], ...]:
    """Logins that may still work while the default user is turned on again: the control plane's own user."""
    stored = InternalLogin.objects.filter(database=database).first()
    return ((ADMIN_USER, stored.password),) if stored else ()
