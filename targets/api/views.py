"""`/api/v1/` (where everything is) and `/api/v1/targets/` (where clusters can run, with their Redis versions)."""
from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.drivers import driver_for
from core.errors import TargetError
from targets.models import Target

from .managed import READ_ERRORS
from .serializers import TargetSerializer


class ApiRootSerializer(serializers.Serializer):
    clusters = serializers.URLField()
    databases = serializers.URLField()
    targets = serializers.URLField()
    apply = serializers.URLField()
    schema = serializers.URLField()
    docs = serializers.URLField()


class ApiRootView(APIView):
    """Where everything is: the collections, YAML apply, the OpenAPI schema and its interactive docs."""

    @extend_schema(responses={200: ApiRootSerializer, **READ_ERRORS})
    def get(self, request) -> Response:
        names = {"clusters": "cluster-list", "databases": "all-databases-list", "targets": "target-list",
                 "apply": "apply", "schema": "schema", "docs": "api-docs"}
        return Response({key: request.build_absolute_uri(reverse(name)) for key, name in names.items()})


@extend_schema(responses={200: TargetSerializer(many=True), **READ_ERRORS})
class TargetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Where clusters can be placed, and the Redis versions each offers."""

    serializer_class = TargetSerializer
    pagination_class = None

    def get_queryset(self):
        Target.default()  # the embedded local target always exists
        return Target.objects.all()

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["versions"] = {target.pk: self.versions_of(target) for target in self.get_queryset()}
        return context

    @staticmethod
    def versions_of(target: Target) -> list[str]:
        try:
            return list(driver_for(target).redis_versions())
        except TargetError:
            return []
