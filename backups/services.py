"""Backing up, restoring and importing databases: the only entry points (API, dashboard, commands, beat).

A backup copies every shard's RDB into a private scratch folder, writes the manifest, then stores the
folder in each location (mount, S3) and trims each to the retention count. A restore verifies the
manifest's checksums and loads every file into a throwaway server *before* it touches the database;
overwriting a database that holds keys needs `confirm`, and the timeline names who did it.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.cluster import RedisCluster

from access import internal
from core.drivers import driver_for
from core.errors import TargetError
from core.locks import LockBusy, object_lock
from core.secrets import secret_values
from databases.backup_spec import BackupConfig
from databases.models import Database
from databases.replica_sources import SECRET as SECRET_SOURCE
from databases.replica_sources import sni_name, source_name, source_of, tls_secrets
from databases.services import create_database, update_database
from specs.database import DatabaseSpec
from targets.private_files import private_dir, write_private
from targets.writes import actor_label
from timeline.broadcast import publish_status
from timeline.models import Event
from timeline.record import record_event

from . import following, plan, sni_relay, source_tls
from . import manifest as manifests
from .capture import CaptureError, dump_rdb
from .link_plan import LinkMove
from .loader import LoadError, copy_keys, key_count, loaded, loader_binary
from .manifest import CorruptBackup
from .migration import (
    FENCE_REPLICAS,
    MigrationError,
    Source,
    fence,
    staging_replica,
    undo_fence,
    wait_caught_up,
    wait_in_sync,
)
from .models import BackupRun
from .storage import StorageError, read_manifest, s3_credentials_of_secret, storages_for

log = logging.getLogger(__name__)

BACKUP_LOCK_WAIT_SECONDS = 30
RUNS_KEPT = 100  # backup runs remembered per database (status and the API show the last ones)
BACKUP_LOCK_TTL_SECONDS = 60  # renewed while the backup runs (targets/locks.py)
CUT_OVER_SYNC_SECONDS = 60  # a cut-over waits this long for a follower still in its full sync


class BackupError(Exception):
    """A backup, restore or import that cannot be done; the message says why. Nothing was changed."""


class ConcurrentBackup(BackupError):
    """A backup of the database is already running."""


class ConfirmationRequired(BackupError):
    """The database holds keys and the caller did not confirm overwriting them."""


@dataclass(frozen=True)
class RestoreResult:
    database: str
    source: str
    keys: int


def retain_count() -> int:
    return int(getattr(settings, "CONTROLPLANE_BACKUP_RETAIN", 7))


def _config(database: Database) -> BackupConfig:
    config = BackupConfig.from_spec(database.spec)
    if config is None or not config.locations:
        raise BackupError(f"database {database.name} has no spec.backup location (mount or s3)")
    return config


def _storages(database: Database, config: BackupConfig) -> list:
    """The database's backup locations; S3 credentials from its target (a Kubernetes Secret) or the stored ones."""
    def from_target(name: str) -> dict | None:
        try:
            values = driver_for(database.target).secret_values(database, name)
        except TargetError as exc:
            raise StorageError(str(exc)) from None
        return None if values is None else s3_credentials_of_secret(values, f"{database.namespace}/{name}")
    return storages_for(config, database.cluster.name, database.name, from_target)


def _scratch_root() -> Path:
    return private_dir(Path(settings.VAR_DIR) / "backup-scratch")


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(dir=_scratch_root()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- backing up ----------------------------------------------------------------------------------

def backup_now(database: Database, *, actor, now: datetime | None = None) -> BackupRun:
    """Take a backup of every shard to every location of `spec.backup`; the run records success or why not."""
    config = _config(database)
    try:
        with object_lock("backup", database.pk, wait=0, ttl=BACKUP_LOCK_TTL_SECONDS):
            return _backup(database, config, actor=actor, now=now)
    except LockBusy:
        raise ConcurrentBackup(f"a backup of {database.name} is already running") from None


def _backup(database: Database, config: BackupConfig, *, actor, now: datetime | None) -> BackupRun:
    who = actor_label(actor)
    started = now or timezone.now()
    run = BackupRun.objects.create(database=database, name=manifests.backup_name(started), started_at=started,
                                   actor=who, locations=config.locations)
    stale = BackupRun.objects.filter(database=database).values_list("pk", flat=True)[RUNS_KEPT:]
    BackupRun.objects.filter(pk__in=list(stale)).delete()  # the run history is bounded too
    clock = time.monotonic()
    try:
        with _scratch() as folder:
            manifest = _capture(database, run.name, started, folder, clock)
            stored = []
            for storage in _storages(database, config):
                storage.put(run.name, folder)
                for old in plan.expired(storage.names(), retain_count()):
                    storage.delete(old)
                stored.append(storage.label)
    except (TargetError, CaptureError, StorageError, redis.RedisError, OSError) as exc:
        run.error = str(exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        record_event(database, "BackupFailed", f"backup {run.name} failed: {exc}", type=Event.WARNING, actor=who)
        _write_backup_info(database)
        return run
    run.ok, run.size, run.finished_at = True, manifest["size"], timezone.now()
    run.save(update_fields=["ok", "size", "finished_at"])
    record_event(database, "BackupTaken",
                 f"backup {run.name}: {len(manifest['shards'])} shard(s), {run.size} bytes, to {', '.join(stored)}",
                 actor=who)
    _write_backup_info(database)
    return run


def _capture(database: Database, name: str, started: datetime, folder: Path, clock: float) -> dict:
    driver = driver_for(database.target)
    sources = driver.backup_sources(database)
    files, shards = {}, []
    for source in sources:
        path = folder / manifests.shard_file(source.shard)
        login = internal.login(database)
        keys = dump_rdb(source.port, login.password, path, host=source.host, username=login.username)
        files[source.shard] = path
        shards.append({"shard": source.shard, "slots": manifests.slot_ranges(list(source.slots)),
                       "source": f"{source.process} ({source.role})", "keys": keys})
    spec = DatabaseSpec.from_spec(database.spec, database.name)
    manifest = manifests.build(name=name, cluster=database.cluster.name, database=database.name,
                               version=spec.redis_version or "", time=started, shards=shards, files=files,
                               duration=time.monotonic() - clock)
    write_private(folder / manifests.MANIFEST, json.dumps(manifest, indent=2))
    return manifest


# -- status.backupInfo and the periodic pass --------------------------------------------------

def backup_info(database: Database) -> dict:
    """status.backupInfo: last success (time, name, size, duration), next periodic run, last error."""
    config = BackupConfig.from_spec(database.spec)
    runs = list(BackupRun.objects.filter(database=database).order_by("-started_at", "-id")[:20])
    success = next((r for r in runs if r.ok), None)
    attempt = runs[0] if runs else None
    info: dict = {"locations": config.locations if config else [], "retain": retain_count()}
    if config and config.interval:
        info["intervalSeconds"] = config.interval
        due = plan.next_run(config.interval, success.started_at if success else None,
                            attempt.started_at if attempt else None, bool(attempt and not attempt.ok))
        info["nextRun"] = (due or timezone.now()).isoformat()
    if success:
        info.update(lastSuccess=success.finished_at.isoformat(), lastBackup=success.name, size=success.size,
                    durationSeconds=round((success.finished_at - success.started_at).total_seconds(), 3))
    failed = next((r for r in runs if not r.ok and r.finished_at), None)
    if failed and (success is None or failed.started_at > success.started_at):
        info.update(lastError=failed.error, lastErrorTime=failed.finished_at.isoformat())
    return info


def _write_backup_info(database: Database) -> None:
    _write_status(database, "backupInfo", backup_info)


def _write_status(database: Database, key: str, value) -> None:
    """Store status[key] = value(current row) (None removes it), under the database's reconcile lock so no
    reconcile writes a stale status (the engine carries these keys: CARRIED_STATUS_KEYS)."""
    try:
        with object_lock("database", database.pk, wait=BACKUP_LOCK_WAIT_SECONDS):
            with transaction.atomic():
                current = Database.objects.select_for_update().get(pk=database.pk)
                status = {k: v for k, v in (current.status or {}).items() if k != key}
                new = value(current)
                if new is not None:
                    status[key] = new
                if status == (current.status or {}):
                    return
                Database.objects.filter(pk=database.pk).update(status=status)
            database.status = status
    except LockBusy:
        log.warning("status.%s of %s not written: its reconcile lock is busy", key, database.name)
        return
    publish_status(database)


def due_databases(now: datetime) -> list[Database]:
    """Databases whose periodic backup is due at `now` (plan.is_due over their last runs)."""
    due = []
    for database in Database.objects.filter(deletion_requested_at__isnull=True).select_related("cluster__target"):
        config = BackupConfig.from_spec(database.spec)
        if not config or not config.interval or not config.locations:
            continue
        runs = BackupRun.objects.filter(database=database).order_by("-started_at", "-id")
        attempt = runs.first()
        success = runs.filter(ok=True).first()
        if plan.is_due(config.interval, success.started_at if success else None,
                       attempt.started_at if attempt else None, bool(attempt and not attempt.ok), now):
            due.append(database)
    return due


def run_due_backups(now: datetime | None = None) -> int:
    """The periodic pass's hook: back up every database whose interval has passed; returns how many ran."""
    now = now or timezone.now()
    count = 0
    for database in due_databases(now):
        if database.state not in ("active", "active-change-pending"):
            continue
        try:
            backup_now(database, actor="controlplane", now=now)
        except BackupError as exc:  # already running (another pass): its own run records the outcome
            log.info("periodic backup of %s skipped: %s", database.name, exc)
            continue
        count += 1
    return count


# -- restoring and importing ---------------------------------------------------------------------

def stored_backups(database: Database) -> list[dict]:
    """Backups in the database's locations: name and where, newest first (a name in two places: once)."""
    config = _config(database)
    found: dict[str, list[str]] = {}
    for storage in _storages(database, config):
        for name in storage.names():
            found.setdefault(name, []).append(storage.label)
    return [{"name": name, "locations": found[name]} for name in sorted(found, reverse=True)]


def _fetch(source_db: Database, name: str | None, folder: Path) -> tuple[str, dict]:
    """Download backup `name` (the newest when None) into `folder` and verify it; CorruptBackup if it fails."""
    config = _config(source_db)
    storages = _storages(source_db, config)
    errors = []
    for storage in storages:
        names = storage.names()
        wanted = name or (names[-1] if names else None)
        if wanted is None or wanted not in names:
            errors.append(f"{storage.label}: no backup {name or ''}".rstrip())
            continue
        for stale in folder.iterdir():
            stale.unlink()
        storage.fetch(wanted, folder)
        return f"{wanted} from {storage.label}", manifests.verify(read_manifest(folder), folder)
    raise BackupError("; ".join(errors) or f"database {source_db.name} has no backups")


def restore(database: Database, *, actor, backup: str | None = None, source: Database | None = None,
            confirm: bool = False) -> RestoreResult:
    """Put backup `backup` (default: the newest) of `source` (default: `database`) into `database`.

    Every file is verified and loaded before the database is touched; a database holding keys is
    overwritten (flushed, then filled) only with `confirm`."""
    source = source or database
    with _scratch() as folder:
        try:
            label, manifest = _fetch(source, backup, folder)
        except CorruptBackup as exc:
            record_event(database, "RestoreRefused", f"backup refused: {exc}", type=Event.WARNING,
                         actor=actor_label(actor))
            raise BackupError(f"backup refused, nothing changed: {exc}") from None
        except StorageError as exc:
            raise BackupError(str(exc)) from None
        files = [folder / entry["file"] for entry in manifest["shards"]]
        expected = sum(int(entry.get("keys") or 0) for entry in manifest["shards"])
        return _load_into(database, files, actor=actor, confirm=confirm, label=f"backup {label}",
                          expected_keys=expected, reason="Restored")


def import_rdb(database: Database, rdb: Path, *, actor, confirm: bool = False) -> RestoreResult:
    """Put the keys of an RDB file (from any Redis) into `database`; same safety as a restore."""
    rdb = Path(rdb)
    if not rdb.is_file():
        raise BackupError(f"{rdb} is not a file")
    with _scratch() as folder:
        copy = folder / "import.rdb"
        try:
            shutil.copyfile(rdb, copy)
        except OSError as exc:
            raise BackupError(f"cannot read {rdb}: {exc.strerror or exc}") from None
        return _load_into(database, [copy], actor=actor, confirm=confirm, label=f"RDB file {rdb.name}",
                          expected_keys=None, reason="Imported")


def _endpoint_client(database: Database):
    """A client to the database as the control plane reaches it (its master; a Redis Cluster client for a
    sharded one, which follows the addresses the nodes announce), with the control plane's own login."""
    try:
        host, port = driver_for(database.target).data_address(database)
    except TargetError as exc:
        raise BackupError(f"database {database.name} cannot be reached: {exc}") from None
    login = internal.login(database)
    if DatabaseSpec.from_spec(database.spec, database.name).shard_count > 1:
        return RedisCluster(host=host, port=port, username=login.username, password=login.password,
                            socket_timeout=30)
    return redis.Redis(host=host, port=port, username=login.username, password=login.password, socket_timeout=30)


def _copy_keys(source: redis.Redis, destination, database: Database) -> int:
    """Every key of `source` into `database`, server to server as the control plane's own login (`cp-admin`
    where the default user is off: the database password would be refused)."""
    login = internal.login(database)
    return copy_keys(source, destination, password=login.password, username=login.username)


def _held_keys(client) -> int:
    """Keys in the database: every shard's count for a sharded one."""
    if isinstance(client, RedisCluster):
        return int(client.dbsize(target_nodes=RedisCluster.PRIMARIES))
    return int(client.dbsize())


def _load_into(database: Database, files: list[Path], *, actor, confirm: bool, label: str,
               expected_keys: int | None, reason: str) -> RestoreResult:
    who = actor_label(actor)
    destination = _endpoint_client(database)
    try:
        held = _held_keys(destination)
        binary = loader_binary(destination)
    except redis.RedisError as exc:
        raise BackupError(f"database {database.name} cannot be reached: {exc}") from None
    except LoadError as exc:
        raise BackupError(str(exc)) from None
    if held and not confirm:
        raise ConfirmationRequired(f"database {database.name} holds {held} keys; restoring replaces them all. "
                                   "Confirm to overwrite (API: \"confirm\": true, CLI: --yes)")
    with contextlib.ExitStack() as stack:
        try:
            sources = [stack.enter_context(loaded(path, binary)) for path in files]  # all load, or nothing changes
            loaded_keys = sum(key_count(s) for s in sources)
        except (LoadError, OSError) as exc:
            record_event(database, f"{reason[:-1]}Refused",
                         f"{label} refused: {exc}", type=Event.WARNING, actor=who)
            raise BackupError(f"{label} refused, nothing changed: {exc}") from None
        if expected_keys is not None and loaded_keys < expected_keys:
            raise BackupError(f"{label} refused, nothing changed: it holds {loaded_keys} keys, its manifest says "
                              f"{expected_keys}")
        try:
            if held:
                _flush(destination)
            copied = sum(_copy_keys(source, destination, database) for source in sources)
        except redis.RedisError as exc:
            record_event(database, f"{reason[:-1]}Failed", f"{label} into {database.name} failed part way: {exc}",
                         type=Event.WARNING, actor=who)
            raise BackupError(f"{label} failed part way ({exc}); run it again to finish") from None
    overwrite = f", replacing {held} keys" if held else ""
    record_event(database, reason, f"{label}: {copied} keys put into {database.name}{overwrite} by {who}", actor=who)
    return RestoreResult(database=database.name, source=label, keys=copied)


def create_copy(source: Database, name: str, *, actor) -> Database:
    """A new, empty database on `source`'s cluster with its spec (own port and secret), to restore into."""
    spec = {key: value for key, value in copy.deepcopy(source.spec).items()
            if key not in ("databasePort", "databaseSecretName", "backup")}
    return create_database(cluster=source.cluster, name=name, spec=spec, team=source.team, actor=actor).obj


def migrate_from(database: Database, source: Source, *, actor, confirm: bool = False) -> RestoreResult:
    """Live migration: follow `source` with a staging replica, then cut over (fence the source's writes,
    wait until the replica has them all, copy every key into `database`). The source stays fenced after
    a successful cut-over (its writes are refused) so no write is acknowledged there any more; a failed
    cut-over lifts the fence and changes nothing the caller can see but timing."""
    who = actor_label(actor)
    label = f"Redis at {source.host}:{source.port}"
    destination = _endpoint_client(database)
    held = _held_to_replace(database, destination, confirm)
    binary = _loader_binary(destination)
    with _scratch() as folder:
        try:
            with staging_replica(source, binary, folder) as staging:
                copied, before = _cut_over(source, staging, destination, database, held=held, label=label)
        except (MigrationError, redis.RedisError) as exc:
            record_event(database, "MigrationFailed", f"migration from {label} failed: {exc}", type=Event.WARNING,
                         actor=who)
            raise BackupError(str(exc)) from None
    return _migrated(database, label, copied, before, who)


def _held_to_replace(database: Database, destination, confirm: bool) -> int:
    try:
        held = _held_keys(destination)
    except redis.RedisError as exc:
        raise BackupError(f"database {database.name} cannot be reached: {exc}") from None
    if held and not confirm:
        raise ConfirmationRequired(f"database {database.name} holds {held} keys; migrating replaces them all. "
                                   "Confirm to overwrite (API: \"confirm\": true, CLI: --yes)")
    return held


def _loader_binary(destination) -> Path:
    try:
        return loader_binary(destination)
    except LoadError as exc:
        raise BackupError(str(exc)) from None


def _cut_over(source: Source, staging: redis.Redis, destination, database: Database, *, held: int,
              label: str) -> tuple[int, str]:
    """Fence the source, wait until `staging` has its last write, put every key into the destination; returns
    (keys copied, the fence's previous setting). A failure lifts the fence again."""
    before = fence(source)
    try:
        wait_caught_up(source, staging)
        if held:
            _flush(destination)
        return _copy_keys(staging, destination, database), before
    except (MigrationError, redis.RedisError) as exc:
        undo_fence(source, before)
        raise MigrationError(f"cut-over stopped, {label} accepts writes again: {exc}") from None


def _migrated(database: Database, label: str, copied: int, before: str, who: str) -> RestoreResult:
    record_event(database, "Migrated", f"{label}: {copied} keys put into {database.name} by {who}; the source "
                                       f"refuses writes (min-replicas-to-write {FENCE_REPLICAS}, was {before})",
                 actor=who)
    return RestoreResult(database=database.name, source=f"{label} (now refusing writes)", keys=copied)


# -- replicaSources: following a database, and the cut-over -------------------------------------

def replica_source(database: Database) -> tuple[str, Source] | None:
    """What `spec.replicaSources` names (a label for messages) and where the control plane reaches it, or None."""
    found = source_of(database.spec)
    if found is None:
        return None
    kind, name = found
    if kind == SECRET_SOURCE:
        return f"the Redis of secret {name}", _uri_source(database, name)
    source_db = Database.objects.filter(cluster=database.cluster, name=name).select_related("cluster__target").first()
    if source_db is None:
        raise BackupError(f"the source database {name} does not exist (any more)")
    try:
        host, port = driver_for(source_db.target).data_address(source_db)
    except TargetError as exc:
        raise BackupError(f"the source database {name} cannot be reached: {exc}") from None
    login = internal.login(source_db)
    return f"database {name}", Source(host=host, port=port, password=login.password, username=login.username)


def _uri_source(database: Database, name: str) -> Source:
    """The Redis a secret's `uri` names: the target's secret (a Kubernetes Secret), else the stored one."""
    try:
        values = secret_values(database, name)
    except TargetError as exc:
        raise BackupError(f"secret {name} cannot be read: {exc}") from None
    uri = str(values.get("uri") or "")
    if not uri:
        raise BackupError(f"secret {name} has no `uri` (redis://[:password@]host:port); on the local target store "
                          f"it with `SOURCE_REDIS_URI=... manage.py backup_secret {name} --redis-uri`")
    server_cert, client_key = tls_secrets(database.spec)
    try:
        tls = source_tls.source_tls(database, server_cert, client_key) if server_cert else None
    except (ValueError, TargetError) as exc:
        raise BackupError(str(exc)) from None
    try:
        source = Source.from_uri(uri, tls)
    except ValueError as exc:
        raise BackupError(f"secret {name}: {exc}") from None
    sni = sni_name(database.spec)
    if not sni or source.tls is None:
        sni_relay.stop(source_tls.relay_folder(database.pk))  # tlsSniName dropped: no relay any more
        return source
    try:  # redis-server sends no SNI: the relay on this machine does
        relayed = dataclasses.replace(source, sni=sni)
        return dataclasses.replace(relayed, relay_port=sni_relay.ensure(source_tls.relay_folder(database.pk),
                                                                        relayed))
    except MigrationError as exc:
        raise BackupError(str(exc)) from None


def follow_replica_sources() -> dict:
    """The periodic pass: every database with replicaSources has a follower in step with its source (progress in
    status.replicaSourceStatus); a follower whose database no longer asks for one is stopped."""
    counts = {"following": 0, "failed": 0, "stopped": 0}
    wanted = set()
    for database in Database.objects.filter(deletion_requested_at__isnull=True).select_related("cluster__target"):
        if not source_name(database.spec):
            continue
        wanted.add(database.pk)
        try:
            status = _follow(database)
            counts["following"] += 1
        except BackupError as exc:
            status = {"source": source_name(database.spec), "error": str(exc)}
            counts["failed"] += 1
            if (database.status or {}).get("replicaSourceStatus", {}).get("error") != status["error"]:
                record_event(database, "ReplicaSourceFailed", status["error"], type=Event.WARNING)
        _write_status(database, "replicaSourceStatus", lambda current, status=status: status)
    for database_id in following.followed():
        if database_id not in wanted:
            following.stop(database_id)
            counts["stopped"] += 1
    source_tls.forget_all_but(wanted)
    return counts


def _follow(database: Database) -> dict:
    label, source = replica_source(database)
    try:
        destination = _endpoint_client(database)
        binary = _loader_binary(destination)
        follower, move = following.ensure(database.pk, source, binary)
        _record_relink(database, label, source, move)
        return {**following.progress(follower, source), "source": source_name(database.spec)}
    except (MigrationError, redis.RedisError) as exc:
        raise BackupError(f"following {label}: {exc}") from None


def _record_relink(database: Database, label: str, source: Source, move: LinkMove) -> None:
    """One event when the follower linked again at the same address because what it links with changed."""
    if move.changed:
        record_event(database, "ReplicaSourceRelinked", f"following {label}: the follower links again to "
                     f"{source.host}:{source.port} with the source's new {' and '.join(move.changed)}")


def cut_over(database: Database, *, actor, confirm: bool = False) -> RestoreResult:
    """End replica-of: fence the source's writes, wait until the follower has them all, put every key into
    `database`, then remove `replicaSources` from its spec (a write like any other, by `actor`). The source
    refuses writes from then on (the signal for writers to move); a failed cut-over lifts the fence."""
    who = actor_label(actor)
    found = replica_source(database)
    if found is None:
        raise BackupError(f"database {database.name} has no spec.replicaSources to cut over from")
    label, source = found
    destination = _endpoint_client(database)
    held = _held_to_replace(database, destination, confirm)
    try:
        follower, move = following.ensure(database.pk, source, _loader_binary(destination))
        _record_relink(database, label, source, move)
        staging = follower.client()
        try:
            wait_in_sync(staging, source, timeout=CUT_OVER_SYNC_SECONDS)
            copied, before = _cut_over(source, staging, destination, database, held=held, label=label)
        finally:
            staging.close()
    except (MigrationError, redis.RedisError) as exc:
        record_event(database, "MigrationFailed", f"cut-over from {label} failed: {exc}", type=Event.WARNING,
                     actor=who)
        raise BackupError(str(exc)) from None
    database.refresh_from_db()
    spec = {key: value for key, value in database.spec.items() if key != "replicaSources"}
    update_database(database, spec=spec, actor=actor)
    following.stop(database.pk)
    source_tls.forget(database.pk)
    _write_status(database, "replicaSourceStatus", lambda current: None)
    return _migrated(database, label, copied, before, who)


def _flush(client) -> None:
    if isinstance(client, RedisCluster):
        client.flushall(target_nodes=RedisCluster.PRIMARIES)
    else:
        client.flushall()
