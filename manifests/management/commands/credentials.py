"""`manage.py credentials DB [--cluster C]`: where to connect, the password and a redis-cli line.

Each reveal is written to the database's timeline with the actor, never the password.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand

from databases.services import reveal_credentials
from manifests.management.lookup import find_one


class Command(BaseCommand):
    help = "Reveal a database's connection details and password (recorded in its timeline)."

    def add_arguments(self, parser):
        parser.add_argument("database")
        parser.add_argument("--cluster", help="the database's cluster, when several databases share the name")
        parser.add_argument("--as", dest="actor", default="cli", help="who the timeline names as the reader")

    def handle(self, *args, database: str, cluster: str | None, actor: str, **options):
        credentials = reveal_credentials(find_one("database", database, cluster=cluster), actor=actor)
        self.stdout.write(f"host:          {credentials.host}")
        self.stdout.write(f"port:          {credentials.port}")
        self.stdout.write(f"service names: {', '.join(credentials.service_names)}")
        self.stdout.write(f"password:      {credentials.password}")
        self.stdout.write(f"redis-cli:     {credentials.redis_cli}")
        for hint in credentials.hints:
            self.stdout.write(f"note:          {hint}")
        if credentials.ca_certificate:
            self.stdout.write("CA certificate (save as ca.crt):")
            self.stdout.write(credentials.ca_certificate.rstrip())
