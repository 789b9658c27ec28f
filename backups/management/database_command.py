"""What the backup commands share: one database named on the command line, and who the timeline names."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from manifests.management.lookup import find_one


class DatabaseCommand(BaseCommand):
    """`DATABASE [--cluster C] [--yes] [--as WHO]` plus the command's own options (`add_options`)."""

    confirms = False  # whether it takes --yes (overwriting a database that holds keys)

    def add_arguments(self, parser):
        parser.add_argument("database")
        parser.add_argument("--cluster", help="the database's cluster, when several databases share the name")
        if self.confirms:
            parser.add_argument("--yes", action="store_true", help="confirm overwriting a database that holds keys")
        parser.add_argument("--as", dest="actor", default="cli", help="who the timeline names")
        self.add_options(parser)

    def add_options(self, parser) -> None:
        """The command's own options."""

    @staticmethod
    def database(name: str, cluster: str | None):
        return find_one("database", name, cluster=cluster)
