"""What the dashboard needs to know about each kind of object, so views are written once.

Upgrade, delete, state and lookup views take a `Kind` instead of repeating themselves for clusters
and databases. Services are imported when called: they are the write path, not the dashboard's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.permissions import is_owner_or_staff
from accounts.visibility import visible_clusters, visible_databases


@dataclass(frozen=True)
class Kind:
    name: str  # "cluster" | "database"
    label: str

    def queryset(self, user) -> QuerySet:
        """The objects `user` may see, with what their pages show joined in."""
        from clusters.models import Cluster
        from databases.models import Database

        if self.name == "cluster":
            return visible_clusters(user, Cluster.objects.select_related("target", "team"))
        return visible_databases(user, Database.objects.select_related("cluster__target", "team"))

    def get(self, user, pk: int) -> Any:
        """The object, or 404 when it does not exist or belongs to another team (its existence does not leak)."""
        return get_object_or_404(self.queryset(user), pk=pk)

    def may_manage(self, user, obj) -> bool:
        """Staff change clusters; a database's team (and staff) change the database."""
        if self.name == "cluster":
            return user.is_staff
        return is_owner_or_staff(user, obj)

    def versions(self, obj) -> list[str]:
        from core.drivers import driver_for

        return driver_for(obj.target).redis_versions()

    def upgrade(self, obj, *, version: str, actor, expected_generation: int | None):
        if self.name == "cluster":
            from clusters.services import upgrade_cluster as service
        else:
            from databases.services import upgrade_database as service
        return service(obj, version=version, actor=actor, expected_generation=expected_generation)

    def delete(self, obj, *, actor, delete_data: bool) -> None:
        if self.name == "cluster":
            from clusters.services import delete_cluster as service
        else:
            from databases.services import delete_database as service
        service(obj, actor=actor, delete_data=delete_data)

    @property
    def detail_url_name(self) -> str:
        return f"frontend:{self.name}-detail"


CLUSTER = Kind("cluster", "cluster")
DATABASE = Kind("database", "database")
KINDS = {kind.name: kind for kind in (CLUSTER, DATABASE)}
