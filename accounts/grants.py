"""Rights granted outside teams: a RedisEnterpriseRole's `managementRole` (DBViewer sees a database, DBMember
may change it) reaches the people the role is bound to. The access app registers where grants come from
(AccessConfig.ready), so this layer needs no import of it."""
from __future__ import annotations

from collections.abc import Callable

VIEWER, MEMBER = "DBViewer", "DBMember"
GrantSource = Callable[[object], dict[tuple[str, int], str]]  # user -> {(kind, pk): VIEWER | MEMBER}
_sources: list[GrantSource] = []


def register_grant_source(source: GrantSource) -> None:
    if source not in _sources:
        _sources.append(source)


def granted(user) -> dict[tuple[str, int], str]:
    """(kind, pk) -> the strongest management role `user` holds on that object through role bindings."""
    grants: dict[tuple[str, int], str] = {}
    if not getattr(user, "is_authenticated", False):
        return grants
    for source in _sources:
        for key, role in source(user).items():
            if grants.get(key) != MEMBER:
                grants[key] = role
    return grants


def granted_ids(user, kind: str) -> list[int]:
    """Objects of `kind` the user may see through a granted role."""
    return [pk for (granted_kind, pk) in granted(user) if granted_kind == kind]


def may_change(user, obj) -> bool:
    return granted(user).get((obj.kind, obj.pk)) == MEMBER
