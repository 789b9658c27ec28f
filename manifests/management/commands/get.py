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
            self._show(self._configurations(configuration, name, namespace), output, name is None,
                       ["NAMESPACE", "NAME", "GENERATION", "SPEC"], configuration_row)
            return
        kind = parse_kind(kind)
        if name:
            objects = [find_one(kind, name, cluster=cluster)]
        else:
            objects = list(queryset(kind, namespace=namespace, cluster=cluster))
        self._show(objects, output, name is None, *TABLES[kind])

    @staticmethod
    def _configurations(kind, name: str | None, namespace: str | None) -> list:
        """Users, roles, role bindings, ACLs: the one named, or all of them (in one namespace)."""
        if name:
            return [find_configuration(kind, name, namespace)]
        return list(kind.queryset().filter(**({"namespace": namespace} if namespace else {})))

    def _show(self, objects: list, output: str | None, as_list: bool, columns: list[str], row) -> None:
        """The objects as YAML/JSON that `apply` accepts again, or as a table of `columns` (`row` fills one)."""
        if output:
            self.stdout.write(dump_objects(objects, output, as_list=as_list), ending="")
        elif not objects:
            self.stdout.write("No resources found.")
        else:
            self.stdout.write(render_table(columns, [row(obj) for obj in objects]), ending="")


def configuration_row(obj) -> list[str]:
    """NAMESPACE NAME GENERATION and the spec (a user's password never)."""
    return [obj.namespace, obj.name, str(obj.generation), summary_text(obj)]

def summary_text(obj) -> str:
    spec = obj.spec
    parts = [f"{key}={value}" for key, value in spec.items() if isinstance(value, str)]
    return " ".join(parts)[:80]
