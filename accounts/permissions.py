"""API permission rules: staff manage clusters; a team manages its own databases.

Scoping *which* rows a user sees lives in `accounts.visibility` (another team's database is a
404, not a 403, so its existence does not leak); these classes decide what a user may *do*.
"""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .grants import granted, may_change


def is_owner_or_staff(user, obj) -> bool:
    """Staff, a member of the team that owns `obj`, or someone bound to a DBMember role on it (docs/acl.md)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return (obj.team_id is not None and obj.team.members.filter(pk=user.pk).exists()) or may_change(user, obj)


class IsStaffOrReadOnly(BasePermission):
    """Clusters: everyone signed in may read them (to place databases); only staff change them."""

    message = "Only staff may change clusters."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request.user.is_staff


class IsOwnerOrStaff(BasePermission):
    """Databases: the owning team's members and staff; everyone else never gets this far (404)."""

    message = "Only the owning team and staff may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        """Reads also for a DBViewer role bound to the user (docs/acl.md); changes need owner, staff or DBMember."""
        if request.method in SAFE_METHODS and (obj.kind, obj.pk) in granted(request.user):
            return True
        return is_owner_or_staff(request.user, obj)
