"""`/api/v1/` (where everything is) and `/api/v1/targets/` (where clusters can run: connect, check, remove)."""
from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffOrReadOnly
from core.drivers import driver_for
from core.errors import SpecError, TargetError
from targets.connect import (
    Connection,
    TargetInUse,
    add_target,
    check_target,
    missing_warning,
    remove_target,
    update_target,
)
from targets.models import Target

from .errors import Conflict
from .managed import ERRORS, READ_ERRORS
from .parsers import BoundedJSONParser
from .serializers import TargetConnectionSerializer, TargetCreateSerializer, TargetSerializer


class ApiRootSerializer(serializers.Serializer):
    clusters = serializers.URLField()
    databases = serializers.URLField()
    targets = serializers.URLField()
    certificateSecrets = serializers.URLField()
    apply = serializers.URLField()
    schema = serializers.URLField()
    docs = serializers.URLField()


class ApiRootView(APIView):
    """Where everything is: the collections, YAML apply, the OpenAPI schema and its interactive docs."""

    @extend_schema(responses={200: ApiRootSerializer, **READ_ERRORS})
    def get(self, request) -> Response:
        names = {"clusters": "cluster-list", "databases": "all-databases-list", "targets": "target-list",
                 "certificateSecrets": "certificate-secret-list", "apply": "apply", "schema": "schema",
                 "docs": "api-docs"}
        return Response({key: request.build_absolute_uri(reverse(name)) for key, name in names.items()})


class StaffWritesTargets(IsStaffOrReadOnly):
    message = "Only staff may add, change, check or remove targets."


TARGET_WRITES = {200: TargetSerializer, **ERRORS}


@extend_schema_view(
    list=extend_schema(responses={200: TargetSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: TargetSerializer, **READ_ERRORS}),
    create=extend_schema(request=TargetCreateSerializer, responses={201: TargetSerializer, **ERRORS}),
    partial_update=extend_schema(request=TargetConnectionSerializer, responses=TARGET_WRITES),
    destroy=extend_schema(responses={204: None, **ERRORS}),
    check=extend_schema(request=None, responses=TARGET_WRITES),
)
class TargetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Where clusters can be placed, and the Redis versions each offers. Staff connect Kubernetes clusters here."""

    serializer_class = TargetSerializer
    permission_classes = [StaffWritesTargets]
    parser_classes = [BoundedJSONParser]
    pagination_class = None
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        Target.default()  # the embedded local target always exists
        return Target.objects.all()

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        targets = [self.kwargs["name"]] if "name" in self.kwargs else None
        queryset = self.get_queryset() if targets is None else self.get_queryset().filter(name__in=targets)
        context["versions"] = {target.pk: self.versions_of(target) for target in queryset}
        return context

    @staticmethod
    def versions_of(target: Target) -> list[str]:
        try:
            return list(driver_for(target).redis_versions())
        except TargetError:
            return []

    def shown(self, target: Target, warnings: list[str], code: int = 200) -> Response:
        context = {**self.get_serializer_context(), "warnings": warnings}
        context["versions"] = {target.pk: self.versions_of(target)}
        return Response(TargetSerializer(target, context=context).data, status=code)

    def create(self, request) -> Response:
        body = TargetCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = add_target(name=data["name"], connection=Connection(
            data.get("kubeconfig", ""), data.get("context", ""), data.get("inCluster", False)))
        return self.shown(result.obj, result.warnings, status.HTTP_201_CREATED)

    def partial_update(self, request, name: str | None = None) -> Response:
        target = self.get_object()
        body = TargetConnectionSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "name" in request.data and request.data["name"] != target.name:
            raise SpecError({"name": [f"cannot change (it is {target.name})"]})
        result = update_target(target, kubeconfig=data.get("kubeconfig"), context=data.get("context"),
                               in_cluster=data.get("inCluster"))
        return self.shown(result.obj, result.warnings)

    def destroy(self, request, name: str | None = None) -> Response:
        target = self.get_object()
        try:
            remove_target(target)
        except TargetInUse as exc:
            raise Conflict(str(exc), {"name": [str(exc)]}) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def check(self, request, name: str | None = None) -> Response:
        """Reach the target again: server version and the permissions the control plane lacks there."""
        target = check_target(self.get_object())
        return self.shown(target, missing_warning(target))
