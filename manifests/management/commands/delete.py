"""`manage.py delete rec|redb NAME [--delete-data]`: ask for removal; the reconciler carries it out."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core import kinds
from core.errors import SpecError
from manifests.management.lookup import configuration_kind, find_configuration, find_one, parse_kind, spec_error_text


class Command(BaseCommand):
    help = "Delete a cluster (rec) or database (redb). Data is kept unless --delete-data is given."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="rec or redb")
        parser.add_argument("name")
        parser.add_argument("--cluster", help="the database's cluster, when several databases share the name")
        parser.add_argument("--delete-data", action="store_true", help="also remove volumes / data files")
        parser.add_argument("--as", dest="actor", default="cli", help="who the timeline names as the author")

    def handle(self, *args, kind: str, name: str, cluster: str | None, delete_data: bool, actor: str, **options):
        configuration = configuration_kind(kind)
        if configuration is not None:
            obj = find_configuration(configuration, name)
            configuration.request_deletion(obj, actor=actor)
            self.stdout.write(f'{configuration.resource_name} "{name}" deleted')
            return
        registered = kinds.get(parse_kind(kind))
        obj = find_one(registered.name, name, cluster=cluster)
        try:
            registered.request_deletion(obj, actor=actor, delete_data=delete_data)
        except SpecError as exc:
            raise CommandError(spec_error_text(exc)) from None
        kept = "data removed" if delete_data else "data kept"
        self.stdout.write(f'{registered.resource_name} "{name}" deleted ({kept}; the reconciler removes it)')
