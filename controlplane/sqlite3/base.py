"""Django's SQLite backend, except that the database file is created 0600 and kept so.

The file holds password hashes, token digests and encrypted secrets; nobody but the control plane's
user has a reason to read it. SQLite gives its -wal and -shm files the main file's mode.
"""
from __future__ import annotations

import os

from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

PRIVATE_FILE = 0o600


def database_file(name: str) -> str | None:
    """The path of a file database, or None for an in-memory one."""
    name = str(name)
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return name


def make_private(path: str) -> None:
    """Create `path` 0600 if missing; take group/other bits away if it exists.

    An existing file is never opened: closing any descriptor of it would drop every POSIX lock this
    process holds on it, those of its other SQLite connections included; another process would then
    take the database for unused, checkpoint and delete the WAL under them ("disk I/O error").
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        mode = os.stat(path).st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
        return
    os.close(fd)


class DatabaseWrapper(SQLiteDatabaseWrapper):
    def get_new_connection(self, conn_params):
        path = database_file(conn_params.get("database", ""))
        if path is not None and os.path.isdir(os.path.dirname(os.path.abspath(path))):
            make_private(path)
        return super().get_new_connection(conn_params)
