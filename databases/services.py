"""The only way database (REDB) specs are written: API, dashboard, YAML and commands all call these.

Writes lock the database's cluster row so port assignment and the capacity check see every other
write to the same cluster; a rejected write changes nothing.
"""
from __future__ import annotations

import copy

from django.db import IntegrityError, transaction

from clusters.certificates import ca_certificate
from clusters.models import Cluster
from core.drivers import driver_for
from core.errors import SpecError, TargetError
from targets.certificates import provided_certificate
from targets.metadata import checked_metadata
from targets.writes import WriteResult, actor_label, announce_write, locked, refresh_from, request_deletion, write_spec
from timeline.record import record_event

from .credentials import Credentials, credentials_for
from .models import Database
from .validation import validate_database

__all__ = ["Credentials", "create_database", "update_database", "delete_database", "upgrade_database",
           "reveal_credentials"]


def create_database(*, cluster: Cluster, name: str, spec: dict, team, actor, metadata: dict | None = None
                    ) -> WriteResult:
    """`metadata` may hold the REDB's `labels` and `annotations` (kept as given)."""
    kept = checked_metadata(metadata or {})
    with transaction.atomic():
        cluster = locked(cluster)
        checked = validate_database(spec, cluster=cluster, name=name)
        database = Database(cluster=cluster, name=name, spec=checked.spec, team=team, generation=1, **kept)
        try:
            with transaction.atomic():
                database.save()
        except IntegrityError:  # a concurrent create won the race past the validator's check
            raise SpecError({"name": [f"a database named {name} was just created on cluster {cluster.name}"]}
                            ) from None
        announce_write(database, actor=actor, reason="Created",
                       message=f"database {name} created on cluster {cluster.name}", warnings=checked.warnings)
    return WriteResult(obj=database, created=True, changed=True, warnings=checked.warnings)


def update_database(database: Database, *, spec: dict, actor, expected_generation: int | None = None,
                    name: str | None = None, metadata: dict | None = None) -> WriteResult:
    """Replace the whole spec. `name`, when given, must be the database's name (names are immutable).
    `metadata` labels/annotations given replace the stored ones; left out, they stay."""
    return write_spec(database, lock=_locked_with_cluster, new_spec=lambda current: spec,
                      validate=lambda current, new: _validate_change(current, new, name=name),
                      actor=actor, expected_generation=expected_generation,
                      metadata=checked_metadata(metadata or {}))


def upgrade_database(database: Database, *, version: str, actor, expected_generation: int | None = None
                     ) -> WriteResult:
    """Move the database to Redis `version`, one process at a time (the driver rolls it)."""
    def with_version(current: Database) -> dict:
        return {**copy.deepcopy(current.spec), "redisVersion": version}

    return write_spec(database, lock=_locked_with_cluster, new_spec=with_version, validate=_validate_change,
                      actor=actor, expected_generation=expected_generation, reason="UpgradeRequested",
                      version_path="spec.redisVersion")


def _validate_change(current: Database, spec: dict, *, name: str | None = None):
    return validate_database(spec, cluster=current.cluster, name=current.name if name is None else name,
                             current=current)


def delete_database(database: Database, *, actor, delete_data: bool = False) -> None:
    with transaction.atomic():
        current = locked(database)
        request_deletion(current, actor=actor, delete_data=delete_data)
    refresh_from(database, current)


def reveal_credentials(database: Database, *, actor) -> Credentials:
    """Connection details with the password; each reveal is an event naming the actor, never the secret."""
    info = driver_for(database.target).connection_info(database)
    spec = database.typed_spec
    credentials = credentials_for(info, database.password, spec, *_client_ca(database))
    who = actor_label(actor)
    record_event(database, "CredentialsRevealed", f"credentials revealed to {who}", actor=who)
    return credentials


def _client_ca(database: Database) -> tuple[str, str]:
    """What clients verify a TLS database's servers with, and where it comes from: the CA given with the
    cluster's own certificate (`certificates.proxyCertificateSecretName`), else the cluster CA."""
    if database.typed_spec.tls_mode == "disabled":
        return "", ""
    try:
        provided = provided_certificate(database)
    except TargetError:  # the secret cannot serve: the database's status says why; its servers keep the last one
        provided = None
    if provided is not None:
        return provided.ca_pem, database.cluster.typed_spec.proxy_certificate_secret or ""
    return ca_certificate(database.cluster), ""


def _locked_with_cluster(database: Database) -> Database:
    """The database row, after locking its cluster row (the order every database write takes locks in)."""
    locked(database.cluster)
    return Database.objects.select_for_update(of=("self",)).select_related("cluster__target").get(pk=database.pk)
