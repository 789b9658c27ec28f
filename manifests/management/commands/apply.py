"""`manage.py apply -f FILE`: create or update the RECs and REDBs of a YAML file, all or nothing."""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Team
from core.errors import SpecError
from manifests.documents import apply_documents
from manifests.management.lookup import resource_name, spec_error_text


class Command(BaseCommand):
    help = ("Apply RedisEnterpriseCluster / RedisEnterpriseDatabase / User / Role / RoleBinding / ACL documents "
            "(several per file; a List too). "
            "Any error in any document applies nothing.")

    def add_arguments(self, parser):
        parser.add_argument("-f", "--filename", required=True, help="YAML or JSON file, or - for standard input")
        parser.add_argument("--team", help="team that owns databases this file creates")
        parser.add_argument("--as", dest="actor", default="cli", help="who the timeline names as the author")

    def handle(self, *args, filename: str, team: str | None, actor: str, **options):
        text = self._read(filename)
        owner = self._team(team)
        try:
            results = apply_documents(text, actor=actor, team=owner)
        except SpecError as exc:
            raise CommandError(spec_error_text(exc)) from None
        for result in results:
            for warning in result.warnings:
                self.stderr.write(f"Warning: {warning}")
            verb = "created" if result.created else "configured" if result.changed else "unchanged"
            self.stdout.write(f"{resource_name(result.obj)}/{result.obj.name} {verb}")

    @staticmethod
    def _read(filename: str) -> str:
        if filename == "-":
            return sys.stdin.read()
        try:
            with open(filename, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {filename}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{filename} is not a UTF-8 text file") from None

    @staticmethod
    def _team(name: str | None):
        if not name:
            return None
        team = Team.objects.filter(name=name).first()
        if team is None:
            raise CommandError(f"no team named {name}")
        return team
