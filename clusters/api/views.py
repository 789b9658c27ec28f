"""`/api/v1/clusters/`: staff manage clusters (REC); everyone signed in may read them."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from accounts.permissions import IsStaffOrReadOnly
from accounts.visibility import visible_clusters
from clusters import services
from clusters.models import Cluster
from core import kinds
from core.errors import SpecError
from targets.api.errors import Conflict
from targets.api.managed import ManagedObjectViewSet, metadata_of, object_schemas
from targets.writes import WriteResult

from .serializers import ClusterSerializer

EXAMPLE = {"name": "rec", "namespace": "default", "target": "local", "spec": {
    "nodes": 3, "persistentSpec": {"enabled": True, "volumeSize": "20Gi"},
    "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "4Gi"}}}}


@extend_schema_view(**object_schemas(ClusterSerializer, EXAMPLE))
class ClusterViewSet(ManagedObjectViewSet):
    serializer_class = ClusterSerializer
    permission_classes = [IsStaffOrReadOnly]
    fixed_fields = ("name", "namespace", "target")

    def get_queryset(self):
        return visible_clusters(self.request.user, Cluster.objects.all()).select_related("target", "team")

    def fixed_values(self, cluster: Cluster) -> dict[str, object]:
        return {"name": cluster.name, "namespace": cluster.namespace, "target": cluster.target.name}

    def create(self, request, *args, **kwargs) -> Response:
        """Create a cluster (REC). Staff only."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.create_cluster(name=data["name"], spec=data["spec"], namespace=data.get("namespace"),
                                         target=data.get("target"), actor=request.user,
                                         metadata=metadata_of(data))
        return self.respond(result.obj, warnings=result.warnings, code=status.HTTP_201_CREATED,
                            headers={"Location": request.build_absolute_uri(f"{result.obj.name}/")})

    def perform_update(self, cluster, spec: dict, expected: int | None, metadata: dict) -> WriteResult:
        return services.update_cluster(cluster, spec=spec, actor=self.request.user, expected_generation=expected,
                                       metadata=metadata)

    def perform_upgrade(self, cluster, version: str, expected: int | None) -> WriteResult:
        return services.upgrade_cluster(cluster, version=version, actor=self.request.user,
                                        expected_generation=expected)

    def perform_delete(self, cluster, delete_data: bool) -> None:
        """Refused with 409 (naming them) while the cluster has databases not being deleted."""
        try:
            services.delete_cluster(cluster, actor=self.request.user, delete_data=delete_data)
        except SpecError as exc:
            if "databases" not in exc.errors:
                raise
            names = list(cluster.databases.filter(deletion_requested_at__isnull=True).values_list("name", flat=True))
            raise Conflict(" ".join(exc.errors["databases"]), exc.errors, databases=names) from None

    def render(self, cluster) -> list[dict]:
        return kinds.get(cluster.kind).render_manifests(cluster, reveal_secrets=False)
