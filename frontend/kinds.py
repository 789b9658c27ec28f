"""What the dashboard needs to know about each kind of object, so views are written once.

Upgrade, delete, state and lookup views take a `Kind` instead of repeating themselves for clusters
and databases; each reads the kind's registration (core/kinds.py) for its model and services.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.visibility import visible_clusters, visible_databases
from core import kinds
from core.drivers import driver_for


@dataclass(frozen=True)
class Kind:
    name: str  # a registered kind: "cluster" | "database"

    @property
    def registered(self) -> kinds.Kind:
        return kinds.get(self.name)

    @property
    def label(self) -> str:
        return self.name

    def queryset(self, user) -> QuerySet:
        """The objects `user` may see, with what their pages show joined in."""
        kind = self.registered
        visible = visible_databases if kind.team_scoped else visible_clusters
        return visible(user, kind.queryset())

    def get(self, user, pk: int) -> Any:
        """The object, or 404 when it does not exist or belongs to another team (its existence does not leak)."""
        return get_object_or_404(self.queryset(user), pk=pk)

    def may_manage(self, user, obj) -> bool:
        """Staff change clusters; a database's team (and staff) change the database."""
        return self.registered.may_manage(user, obj)

    def get_managed(self, user, pk: int, refusal: str) -> Any:
        """The object as `get` finds it, when `user` may manage it; else 403 saying `refusal`."""
        obj = self.get(user, pk)
        if not self.may_manage(user, obj):
            raise PermissionDenied(refusal)
        return obj

    def versions(self, obj) -> list[str]:
        return driver_for(obj.target).redis_versions()

    def upgrade(self, obj, *, version: str, actor, expected_generation: int | None):
        return self.registered.upgrade(obj, version=version, actor=actor, expected_generation=expected_generation)

    def delete(self, obj, *, actor, delete_data: bool) -> None:
        self.registered.request_deletion(obj, actor=actor, delete_data=delete_data)

    @property
    def detail_url_name(self) -> str:
        return f"frontend:{self.name}-detail"


CLUSTER = Kind("cluster")
DATABASE = Kind("database")
KINDS = {kind.name: kind for kind in (CLUSTER, DATABASE)}
