"""`/api/v1/clusters/<cluster>/databases/` and the flat `/api/v1/databases/`: a team's databases (REDB).

Another team's database is a 404 (not a 403), so names do not leak between teams.
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.ownership import owner_team_for
from accounts.permissions import IsOwnerOrStaff
from accounts.throttling import CredentialsThrottle
from accounts.visibility import visible_clusters, visible_databases
from clusters.models import Cluster
from core import kinds
from databases import services
from databases.models import Database
from targets.api.managed import ERRORS, ManagedObjectViewSet, metadata_of, object_schemas
from targets.writes import WriteResult

from .serializers import CredentialsSerializer, DatabaseSerializer


def database_queryset(user):
    return visible_databases(user, Database.objects.all()).select_related("cluster", "cluster__target", "team")


# Reads (list, detail) load only the columns the REDB JSON shows: not the password (decrypted on load),
# nor any other column of the cluster and the team than their names. Each column costs on every row
# (model instances, timestamp conversions): a list page costs about half of loading whole rows.
SHOWN = ("name", "spec", "generation", "status", "labels", "annotations", "deletion_requested_at", "created_at",
         "updated_at", "cluster", "cluster__name", "team", "team__name")


def database_read_queryset(user):
    return visible_databases(user, Database.objects.all()).select_related("cluster", "team").only(*SHOWN)


EXAMPLE = {"name": "orders", "team": "payments", "spec": {
    "memorySize": "256MB", "shardCount": 1, "replication": True, "persistence": "aofEverySecond"}}


@extend_schema_view(**object_schemas(DatabaseSerializer, EXAMPLE))
class DatabaseViewSet(ManagedObjectViewSet):
    serializer_class = DatabaseSerializer
    permission_classes = [IsOwnerOrStaff]
    fixed_fields = ("name", "team")

    def get_queryset(self):
        reading = self.action in ("list", "retrieve")
        queryset = database_read_queryset(self.request.user) if reading else database_queryset(self.request.user)
        return queryset.filter(cluster__name=self.kwargs["cluster"])

    def fixed_values(self, database: Database) -> dict[str, object]:
        return {"name": database.name, "team": database.team.name if database.team else None}

    def get_cluster(self):
        clusters = visible_clusters(self.request.user, Cluster.objects.all())
        return get_object_or_404(clusters, name=self.kwargs["cluster"])

    def list(self, request, *args, **kwargs) -> Response:
        """The cluster's databases you may see."""
        self.get_cluster()
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs) -> Response:
        """Create a database (REDB) on the cluster, owned by your team (or the named one)."""
        cluster = self.get_cluster()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = owner_team_for(request.user, data.get("team"))
        result = services.create_database(cluster=cluster, name=data["name"], spec=data["spec"], team=team,
                                          actor=request.user, metadata=metadata_of(data))
        return self.respond(result.obj, warnings=result.warnings, code=status.HTTP_201_CREATED,
                            headers={"Location": request.build_absolute_uri(f"{result.obj.name}/")})

    def perform_update(self, database, spec: dict, expected: int | None, metadata: dict) -> WriteResult:
        return services.update_database(database, spec=spec, actor=self.request.user, expected_generation=expected,
                                        metadata=metadata)

    def perform_upgrade(self, database, version: str, expected: int | None) -> WriteResult:
        return services.upgrade_database(database, version=version, actor=self.request.user,
                                         expected_generation=expected)

    def perform_delete(self, database, delete_data: bool) -> None:
        services.delete_database(database, actor=self.request.user, delete_data=delete_data)

    def render(self, database) -> list[dict]:
        return kinds.get(database.kind).render_manifests(database, reveal_secrets=False)

    @extend_schema(request=None, responses={200: CredentialsSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def credentials(self, request, *args, **kwargs) -> Response:
        """Reveal host, port, service names, password and a redis-cli command. Each reveal is an event."""
        database = self.get_object()
        CredentialsThrottle().check(request)
        revealed = services.reveal_credentials(database, actor=request.user)
        return Response(CredentialsSerializer(revealed).data, headers={"Cache-Control": "no-store"})


@extend_schema_view(list=extend_schema(
    parameters=[
        OpenApiParameter("cluster", OpenApiTypes.STR, description="Only databases of this cluster."),
        OpenApiParameter("team", OpenApiTypes.STR, description="Only databases of this team."),
        OpenApiParameter("state", OpenApiTypes.STR, description="Only databases in this state, e.g. active."),
    ],
    responses={200: DatabaseSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
))
class AllDatabasesViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every database you may see, across clusters."""

    serializer_class = DatabaseSerializer
    permission_classes = [IsOwnerOrStaff]
    filters = {"cluster": "cluster__name", "team": "team__name", "state": "status__state"}

    def get_queryset(self):
        queryset = database_read_queryset(self.request.user)
        for param, lookup in self.filters.items():
            value = self.request.query_params.get(param)
            if value:
                queryset = queryset.filter(**{lookup: value})
        return queryset
