"""The secrets a spec names by name (`backup.s3.awsSecretName`, a `replicaSources` SECRET, a user's
`passwordSecrets`): the target's own (a Kubernetes Secret in the database's namespace) where it keeps secrets,
else the control plane's encrypted store (`manage.py backup_secret`), which the backups app owns and registers
here in `BackupsConfig.ready`, so that apps below it (access) read secrets without importing it."""
from __future__ import annotations

from collections.abc import Callable

from core.drivers import driver_for

_stored_reader: Callable[[str], dict[str, str]] | None = None


def set_stored_reader(reader: Callable[[str], dict[str, str]]) -> None:
    global _stored_reader
    _stored_reader = reader


def secret_values(database, name: str) -> dict[str, str]:
    """The decoded keys of secret `name` as `database`'s target sees it; {} when there is none.
    TargetError when the target cannot be asked."""
    values = driver_for(database.target).secret_values(database, name)
    if values is None:
        values = _stored_reader(name) if _stored_reader is not None else {}
    return values
