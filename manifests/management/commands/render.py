"""`manage.py render -f FILE`: print the Kubernetes manifests REC/REDB YAML becomes, touching nothing.

Like `helm template`: the documents go through the same validator and services as `apply`, inside
a transaction that is rolled back, so nothing is stored, no reconcile is requested and no
Kubernetes API is called. Secrets are shown as "<redacted>" unless `--show-secrets`.
"""
from __future__ import annotations

import sys

import yaml
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import kinds
from core.errors import SpecError
from manifests.documents import TARGET_ANNOTATION, apply_documents
from targets.models import Target

DRY_RUN_TARGET = "render-dry-run"


class Command(BaseCommand):
    help = "Print the Kubernetes manifests that REC/REDB YAML becomes (a dry run; nothing is stored or applied)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("-f", "--filename", required=True, help="YAML file with REC/REDB documents, or - for stdin")
        parser.add_argument("--target", help="kubernetes target whose settings (versions) apply; default: the first "
                                             "kubernetes target, or built-in defaults")
        parser.add_argument("--show-secrets", action="store_true", help="print Secret values instead of <redacted>")

    def handle(self, *args, filename: str, target: str | None, show_secrets: bool, **options) -> None:
        text = self._read(filename)
        manifests: list[dict] = []
        try:
            with transaction.atomic():
                kube_target = self._target(target)
                results = apply_documents(_on_target(text, kube_target.name), actor="render")
                for result in results:
                    obj = result.obj
                    manifests += kinds.of(obj).render_manifests(obj, reveal_secrets=show_secrets)
                    for warning in result.warnings:
                        self.stderr.write(f"warning: {warning}")
                transaction.set_rollback(True)
        except SpecError as exc:
            lines = [f"{path}: {' '.join(messages)}" for path, messages in exc.errors.items()]
            raise CommandError("invalid input:\n  " + "\n  ".join(lines)) from None
        self.stdout.write(yaml.safe_dump_all(manifests, sort_keys=False), ending="")

    @staticmethod
    def _read(filename: str) -> str:
        if filename == "-":
            return sys.stdin.read()
        try:
            with open(filename) as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {filename}: {exc.strerror}") from None

    @staticmethod
    def _target(name: str | None) -> Target:
        if name:
            found = Target.objects.filter(name=name, kind=Target.KUBERNETES).first()
            if found is None:
                raise CommandError(f"no kubernetes target named {name}")
            return found
        found = Target.objects.filter(kind=Target.KUBERNETES).first()
        # Inside the rolled-back transaction: a stand-in target with the site-wide defaults.
        return found or Target.objects.create(name=DRY_RUN_TARGET, kind=Target.KUBERNETES, settings={})


def _on_target(text: str, target_name: str) -> str:
    """The documents with every REC placed on `target_name` unless it names its own target."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError:
        return text  # apply_documents reports the parse error with its position
    for document in documents:
        kind = kinds.by_api_kind(document.get("kind")) if isinstance(document, dict) else None
        if kind is None or kind.parent or not isinstance(document.get("metadata"), dict):
            continue  # only kinds placed on a target directly carry the target annotation
        if document["metadata"].get("annotations") is None:
            document["metadata"]["annotations"] = {}
        if isinstance(document["metadata"]["annotations"], dict):
            document["metadata"]["annotations"].setdefault(TARGET_ANNOTATION, target_name)
    return yaml.safe_dump_all(documents, sort_keys=False)
