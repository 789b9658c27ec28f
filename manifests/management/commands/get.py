"""`manage.py get rec|redb [NAME] [-o yaml|json]`: list objects like `kubectl get`, or dump them with status."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from manifests.documents import dump_objects
from manifests.management.lookup import configuration_kind, find_configuration, find_one, parse_kind, queryset
from manifests.management.tables import TABLES, render_table


class Command(BaseCommand):
    help = "Show clusters (rec) or databases (redb): a table, or YAML/JSON that `apply` accepts again."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="rec, redb, reuser, rerole, rerb or reacl")
        parser.add_argument("name", nargs="?", help="one object; all of them when left out")
        parser.add_argument("-o", "--output", choices=["yaml", "json"], help="print the objects with spec and status")
        parser.add_argument("-n", "--namespace", help="only this namespace")
        parser.add_argument("--cluster", help="databases of this cluster only")

    def handle(self, *args, kind: str, name: str | None, output: str | None, namespace: str | None,
               cluster: str | None, **options):
        configuration = configuration_kind(kind)
        if configuration is not None:
            self._configuration(configuration, name, output, namespace)
            return
        kind = parse_kind(kind)
        if name:
            objects = [find_one(kind, name, cluster=cluster)]
        else:
            objects = list(queryset(kind, namespace=namespace, cluster=cluster))
        if output:
            self.stdout.write(dump_objects(objects, output, as_list=name is None), ending="")
            return
        if not objects:
            self.stdout.write("No resources found.")
            return
        columns, row = TABLES[kind]
        self.stdout.write(render_table(columns, [row(obj) for obj in objects]), ending="")

    def _configuration(self, kind, name: str | None, output: str | None, namespace: str | None) -> None:
        """Users, roles, role bindings, ACLs: NAMESPACE NAME and the spec (a user's password never)."""
        if name:
            objects = [find_configuration(kind, name, namespace)]
        else:
            objects = list(kind.queryset().filter(**({"namespace": namespace} if namespace else {})))
        if output:
            self.stdout.write(dump_objects(objects, output, as_list=name is None), ending="")
            return
        if not objects:
            self.stdout.write("No resources found.")
            return
        rows = [[obj.namespace, obj.name, str(obj.generation), summary_text(obj)] for obj in objects]
        self.stdout.write(render_table(["NAMESPACE", "NAME", "GENERATION", "SPEC"], rows), ending="")


def summary_text(obj) -> str:
    spec = obj.spec
    parts = [f"{key}={value}" for key, value in spec.items() if isinstance(value, str)]
    return " ".join(parts)[:80]
