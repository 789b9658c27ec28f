"""What the REC/REDB commands share: kind words, finding objects by name, and error text."""
from __future__ import annotations

from django.core.management.base import CommandError

from core import kinds
from core.errors import SpecError


def parse_kind(word: str) -> str:
    """The registered kind ("cluster", "database") a kubectl-style word (rec, redb, ...) names."""
    kind = kinds.by_word(word)
    if kind is None:
        known = ", ".join(f"{k.short_name.lower()} ({k.api_kind})"
                          for k in [*kinds.all_kinds(), *kinds.document_kinds()])
        raise CommandError(f"unknown kind {word!r}: use {known}")
    return kind.name


def configuration_kind(word: str) -> kinds.DocumentKind | None:
    """The configuration kind (reuser, rerole, rerb, reacl ...) a word names, or None."""
    return kinds.document_kind_by_word(word)


def find_configuration(kind: kinds.DocumentKind, name: str, namespace: str | None = None):
    qs = kind.queryset().filter(name=name)
    if namespace:
        qs = qs.filter(namespace=namespace)
    matches = list(qs)
    if not matches:
        raise CommandError(f'{kind.resource_name} "{name}" not found')
    if len(matches) > 1:
        raise CommandError(f"several {kind.api_kind} are named {name}; say which with --namespace")
    return matches[0]


def resource_name(obj) -> str:
    """redisenterprisecluster.app.redislabs.com-style name of any stored object's kind."""
    configuration = kinds.document_kind(getattr(obj, "api_kind", ""))
    return (configuration or kinds.of(obj)).resource_name


def queryset(kind: str, *, namespace: str | None = None, cluster: str | None = None):
    """Objects of `kind`, in `namespace`; for a kind living on clusters, only those of `cluster`."""
    registered = kinds.get(kind)
    qs = registered.queryset()
    parent = f"{registered.parent}__" if registered.parent else ""
    if namespace:
        qs = qs.filter(**{f"{parent}namespace": namespace})
    if cluster and registered.parent:
        qs = qs.filter(**{f"{parent}name": cluster})
    return qs


def find_one(kind: str, name: str, *, cluster: str | None = None):
    """The one object of `kind` named `name`; a clear error when there is none or several."""
    matches = list(queryset(kind, cluster=cluster).filter(name=name))
    if not matches:
        where = f" on cluster {cluster}" if cluster else ""
        raise CommandError(f'{kinds.get(kind).resource_name} "{name}" not found{where}')
    if len(matches) > 1:
        clusters = ", ".join(m.cluster.name for m in matches)
        raise CommandError(f"several databases are named {name} (on clusters {clusters}); say which with --cluster")
    return matches[0]


def spec_error_text(exc: SpecError) -> str:
    """Field errors one per line, for a CommandError."""
    lines = [f"{path}: {message}" for path, messages in exc.errors.items() for message in messages]
    return "invalid input:\n  " + "\n  ".join(lines)
