"""`manage.py restore DB [--from BACKUP] [--into NEWDB] [--rdb FILE] [--yes]`.

Restores a backup of DB (the newest unless --from names one) into DB, or into NEWDB (created on DB's
cluster with DB's spec when it does not exist). --rdb FILE imports an RDB file into DB instead.
A database holding keys is overwritten only with --yes; the timeline names who did it.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from backups import services
from backups.management.database_command import DatabaseCommand
from databases.models import Database
from engine.reconcile import reconcile_all_until_settled


class Command(DatabaseCommand):
    confirms = True
    help = "Restore a database from a backup (or import an RDB file); --yes to overwrite a database with keys."

    def add_options(self, parser):
        parser.add_argument("--from", dest="backup", help="the backup's name (default: the newest)")
        parser.add_argument("--into", help="restore into this database (created like DB when missing)")
        parser.add_argument("--rdb", type=Path, help="import this RDB file into DATABASE instead of a backup")
        parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for a new database")

    def handle(self, *args, database: str, cluster: str | None, backup: str | None, into: str | None,
               rdb: Path | None, yes: bool, timeout: float, actor: str, **options):
        source = self.database(database, cluster)
        try:
            if rdb is not None:
                result = services.import_rdb(source, rdb, actor=actor, confirm=yes)
            else:
                target = self._target(source, into, actor, timeout) if into else source
                result = services.restore(target, source=source, backup=backup, actor=actor, confirm=yes)
        except services.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{result.source}: {result.keys} keys put into {result.database}")

    def _target(self, source: Database, name: str, actor: str, timeout: float) -> Database:
        existing = Database.objects.filter(cluster=source.cluster, name=name).first()
        if existing is not None:
            return existing
        created = services.create_copy(source, name, actor=actor)
        self.stdout.write(f"database {name} created on cluster {source.cluster.name}; waiting until active")
        outcome = reconcile_all_until_settled([("database", created.pk)], timeout=timeout)[0]
        if outcome.state != "active":
            raise CommandError(f"database {name} is {outcome.state} ({outcome.error}); restore not started")
        created.refresh_from_db()
        return created
