"""The secrets a spec names by name (`backup.s3.awsSecretName`, a `replicaSources` SECRET, a user's
`passwordSecrets`): the target's own (a Kubernetes Secret in the database's namespace) where it keeps secrets,
else the control plane's encrypted store (`manage.py backup_secret`, backups/models.py StorageSecret)."""
from __future__ import annotations

from core.drivers import driver_for

from .models import StorageSecret


def secret_values(database, name: str) -> dict[str, str]:
    """The decoded keys of secret `name` as `database`'s target sees it; {} when there is none.
    TargetError when the target cannot be asked."""
    values = driver_for(database.target).secret_values(database, name)
    if values is None:
        stored = StorageSecret.objects.filter(name=name).first()
        values = stored.values() if stored else {}
    return values
