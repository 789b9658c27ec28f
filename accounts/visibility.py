"""Who may see what: the one place that scopes querysets to a user's teams."""
from django.db.models import Q, QuerySet

from .grants import granted_ids


def visible_databases(user, queryset: QuerySet) -> QuerySet:
    """Staff see every database; anyone else their teams' databases and those a DBViewer/DBMember role
    bound to them names (docs/acl.md)."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_staff:
        return queryset
    granted = granted_ids(user, queryset.model.kind)
    if not granted:
        return queryset.filter(team__members=user)
    return queryset.filter(Q(team__members=user) | Q(pk__in=granted)).distinct()


def visible_clusters(user, queryset: QuerySet) -> QuerySet:
    """Staff see every cluster; a team member sees clusters to place databases on."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset
