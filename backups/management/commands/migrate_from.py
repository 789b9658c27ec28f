"""`manage.py migrate_from DB --source HOST:PORT [--yes]`: live migration from another Redis into DB.

A staging replica follows the source while writers keep writing; then the cut-over fences the
source's writes (they get NOREPLICAS errors from then on: move writers to DB), waits until the
replica has every acknowledged write and copies every key into DB. The source's password, if any,
is read from SOURCE_REDIS_PASSWORD (never the command line).
"""
from __future__ import annotations

import os

from django.core.management.base import CommandError

from backups import services
from backups.management.database_command import DatabaseCommand
from backups.migration import Source


class Command(DatabaseCommand):
    confirms = True
    help = "Migrate a live Redis (HOST:PORT) into a database: follow it, then cut over (the source refuses writes)."

    def add_options(self, parser):
        parser.add_argument("--source", required=True, help="HOST:PORT of the Redis to migrate from")

    def handle(self, *args, database: str, source: str, cluster: str | None, yes: bool, actor: str, **options):
        host, _, port = source.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandError("--source must be HOST:PORT")
        db = self.database(database, cluster)
        origin = Source(host=host, port=int(port), password=os.environ.get("SOURCE_REDIS_PASSWORD") or None)
        try:
            result = services.migrate_from(db, origin, actor=actor, confirm=yes)
        except services.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{result.source}: {result.keys} keys put into {result.database}")
