"""`manage.py backup DB [--cluster C] [--list]`: back a database up now to its spec.backup locations."""
from __future__ import annotations

from django.core.management.base import CommandError

from backups import services
from backups.management.database_command import DatabaseCommand


class Command(DatabaseCommand):
    help = "Back up a database now (every shard, to every location of its spec.backup), or list its backups."

    def add_options(self, parser):
        parser.add_argument("--list", action="store_true", help="list the backups in its locations instead")

    def handle(self, *args, database: str, cluster: str | None, list: bool, actor: str, **options):
        db = self.database(database, cluster)
        try:
            if list:
                for backup in services.stored_backups(db):
                    self.stdout.write(f"{backup['name']}  {', '.join(backup['locations'])}")
                return
            run = services.backup_now(db, actor=actor)
        except (services.BackupError, services.StorageError) as exc:
            raise CommandError(str(exc)) from None
        if not run.ok:
            raise CommandError(f"backup {run.name} failed: {run.error}")
        self.stdout.write(f"backup {run.name}: {run.size} bytes to {', '.join(run.locations)}")
