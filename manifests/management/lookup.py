"""What the REC/REDB commands share: kind words, finding objects by name, and error text."""
from __future__ import annotations

from django.core.management.base import CommandError

from core.errors import SpecError

KIND_WORDS = {
    "cluster": ("rec", "recs", "redisenterprisecluster", "redisenterpriseclusters", "cluster", "clusters"),
    "database": ("redb", "redbs", "redisenterprisedatabase", "redisenterprisedatabases", "database", "databases"),
}
RESOURCE_NAMES = {"cluster": "redisenterprisecluster.app.redislabs.com",
                  "database": "redisenterprisedatabase.app.redislabs.com"}


def parse_kind(word: str) -> str:
    """"cluster" or "database" for a kubectl-style kind word (rec, redb, ...)."""
    for kind, words in KIND_WORDS.items():
        if word.lower() in words:
            return kind
    raise CommandError(f"unknown kind {word!r}: use rec (RedisEnterpriseCluster) or redb (RedisEnterpriseDatabase)")


def queryset(kind: str, *, namespace: str | None = None, cluster: str | None = None):
    from clusters.models import Cluster
    from databases.models import Database

    if kind == "cluster":
        qs = Cluster.objects.select_related("target")
        return qs.filter(namespace=namespace) if namespace else qs
    qs = Database.objects.select_related("cluster__target")
    if namespace:
        qs = qs.filter(cluster__namespace=namespace)
    return qs.filter(cluster__name=cluster) if cluster else qs


def find_one(kind: str, name: str, *, cluster: str | None = None):
    """The one object of `kind` named `name`; a clear error when there is none or several."""
    matches = list(queryset(kind, cluster=cluster).filter(name=name))
    if not matches:
        where = f" on cluster {cluster}" if cluster else ""
        raise CommandError(f'{RESOURCE_NAMES[kind]} "{name}" not found{where}')
    if len(matches) > 1:
        clusters = ", ".join(m.cluster.name for m in matches)
        raise CommandError(f"several databases are named {name} (on clusters {clusters}); say which with --cluster")
    return matches[0]


def spec_error_text(exc: SpecError) -> str:
    """Field errors one per line, for a CommandError."""
    lines = [f"{path}: {message}" for path, messages in exc.errors.items() for message in messages]
    return "invalid input:\n  " + "\n  ".join(lines)
