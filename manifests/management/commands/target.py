"""`manage.py target add|list|check|remove`: connect Kubernetes clusters the control plane may place clusters on."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import SpecError
from manifests.management.lookup import spec_error_text
from manifests.management.tables import age, render_table
from targets.connect import Connection, TargetInUse, add_target, check_target, remove_target
from targets.models import Target

COLUMNS = ["NAME", "KIND", "VERSION", "CLUSTERS", "CHECKED", "PROBLEMS"]


def problems_of(target: Target) -> str:
    if target.check_error:
        return f"unreachable: {target.check_error}"
    if target.missing_permissions:
        return f"{len(target.missing_permissions)} permissions missing"
    return "none" if target.checked_at else "not checked"


def row(target: Target) -> list[str]:
    checked = f"{age(target.checked_at)} ago" if target.checked_at else "never"
    return [target.name, target.kind, target.server_version or "-", str(target.clusters.count()), checked,
            problems_of(target)]


class Command(BaseCommand):
    help = "Connect, list, check and remove targets (where clusters run). The kubeconfig is stored encrypted."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="connect a Kubernetes cluster")
        add.add_argument("name")
        source = add.add_mutually_exclusive_group(required=True)
        source.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (its content is stored encrypted)")
        source.add_argument("--in-cluster", action="store_true", help="this pod's service account")
        add.add_argument("--context", default="", help="context of the kubeconfig (default: its current-context)")
        actions.add_parser("list", help="targets with version and last check")
        check = actions.add_parser("check", help="reach a target again: version and missing permissions")
        check.add_argument("name")
        remove = actions.add_parser("remove", help="remove a target no cluster uses")
        remove.add_argument("name")

    def handle(self, *args, action: str, **options):
        if action == "list":
            Target.default()
            self.stdout.write(render_table(COLUMNS, [row(t) for t in Target.objects.all()]), ending="")
            return
        if action == "add":
            self.add(options["name"], options["kubeconfig"], options["context"], options["in_cluster"])
            return
        target = Target.objects.filter(name=options["name"]).first()
        if target is None:
            raise CommandError(f'target "{options["name"]}" not found')
        if action == "check":
            self.report(check_target(target))
            if target.check_error or target.missing_permissions:
                raise CommandError(f"target {target.name} is not ready for use")
            return
        try:
            remove_target(target)
        except TargetInUse as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"target {target.name} removed")

    def add(self, name: str, path: str | None, context: str, in_cluster: bool) -> None:
        kubeconfig = ""
        if path:
            try:
                with open(path) as handle:
                    kubeconfig = handle.read(2 * 1024 * 1024)
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            result = add_target(name=name, connection=Connection(kubeconfig, context, in_cluster))
        except SpecError as exc:
            raise CommandError(spec_error_text(exc)) from exc
        self.stdout.write(f"target {name} added")
        self.report(result.obj)

    def report(self, target: Target) -> None:
        if target.check_error:
            self.stdout.write(f"{target.name}: unreachable: {target.check_error}")
            return
        self.stdout.write(f"{target.name}: server {target.server_version}")
        if target.missing_permissions:
            self.stdout.write("missing permissions (grant them, e.g. with deploy/kubernetes/rbac.yaml):")
            for permission in target.missing_permissions:
                self.stdout.write(f"  {permission}")
        else:
            self.stdout.write("all permissions the control plane needs are granted")
