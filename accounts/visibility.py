"""Who may see what: the one place that scopes querysets to a user's teams."""
from django.db.models import QuerySet


def visible_databases(user, queryset: QuerySet) -> QuerySet:
    """Staff see every database; anyone else only their teams' databases."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_staff:
        return queryset
    return queryset.filter(team__members=user)


def visible_clusters(user, queryset: QuerySet) -> QuerySet:
    """Staff see every cluster; a team member sees clusters to place databases on."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset
