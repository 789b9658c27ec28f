"""`/api/v1/targets/` (where clusters can run, with their Redis versions) and `/api/v1/apply/` (REC/REDB YAML)."""
from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.ownership import owner_team_for
from accounts.permissions import is_owner_or_staff
from core.drivers import driver_for
from core.errors import TargetError
from manifests.documents import REC_KIND, REDB_KIND, apply_documents, parse_documents
from targets.models import Target
from targets.writes import WriteResult

from .managed import ERRORS, READ_ERRORS
from .parsers import PlainTextParser, TextYAMLParser, XYAMLTextParser, YAMLTextParser
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


KINDS = {"cluster": REC_KIND, "database": REDB_KIND}


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


class AppliedSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS.values()))
    name = serializers.CharField()
    cluster = serializers.CharField(required=False, help_text="RedisEnterpriseDatabase only.")
    generation = serializers.IntegerField()
    created = serializers.BooleanField()
    changed = serializers.BooleanField()
    warnings = serializers.ListField(child=serializers.CharField())


class ApplyResultSerializer(serializers.Serializer):
    items = AppliedSerializer(many=True)


class ApplyView(APIView):
    """Apply REC/REDB YAML documents, all or nothing: the same format `manage.py apply -f` takes."""

    parser_classes = [YAMLTextParser, XYAMLTextParser, TextYAMLParser, PlainTextParser]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request={"application/yaml": OpenApiTypes.STR},
        parameters=[OpenApiParameter("team", OpenApiTypes.STR,
                                     description="Team owning databases the file creates (default: your only team).")],
        responses={200: ApplyResultSerializer, **ERRORS},
    )
    def post(self, request) -> Response:
        text = request.data if isinstance(request.data, str) else ""
        documents = parse_documents(text)
        if not request.user.is_staff:
            for document in documents:
                if document.kind == REC_KIND:
                    raise PermissionDenied(f"{document.path}: only staff may apply {REC_KIND} documents; "
                                           "nothing was applied.")
        team_name = request.query_params.get("team")
        team = owner_team_for(request.user, team_name) if team_name or not request.user.is_staff else None
        with transaction.atomic():
            results = apply_documents(text, actor=request.user, team=team)
            self.check_allowed(request.user, [document.path for document in documents], results)
        return Response({"items": [self.summary(result) for result in results]})

    @staticmethod
    def check_allowed(user, paths: list[str], results: list[WriteResult]) -> None:
        """Refuse (and so roll back) the whole file if it changed another team's database."""
        for path, result in zip(paths, results, strict=True):
            obj = result.obj
            if obj.kind == "cluster" and not user.is_staff:
                raise PermissionDenied(f"{path}: only staff may apply {REC_KIND} documents; nothing was applied.")
            if obj.kind == "database" and not is_owner_or_staff(user, obj):
                raise PermissionDenied(f"{path}: database {obj.name} belongs to another team; "
                                       "nothing was applied.")

    @staticmethod
    def summary(result: WriteResult) -> dict:
        obj = result.obj
        item = {"kind": KINDS[obj.kind], "name": obj.name, "generation": obj.generation,
                "created": result.created, "changed": result.changed, "warnings": result.warnings}
        if obj.kind == "database":
            item["cluster"] = obj.cluster.name
        return item
