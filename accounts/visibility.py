"""Who may see what: the one place that scopes querysets to a user's teams."""
from django.db.models import QuerySet


def visible_databases(user, queryset: QuerySet | None = None) -> QuerySet:
    from databases.models import Database

    qs = queryset if queryset is not None else Database.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_staff:
        return qs
    return qs.filter(team__members=user)


def visible_clusters(user, queryset: QuerySet | None = None) -> QuerySet:
    """Staff see every cluster; a team member sees clusters to place databases on."""
    from clusters.models import Cluster

    qs = queryset if queryset is not None else Cluster.objects.all()
    if not user.is_authenticated:
        return qs.none()
    return qs
