"""`/api/v1/apply/`: REC/REDB YAML documents, the same format `manage.py apply -f` takes."""
from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.ownership import owner_team_for
from accounts.permissions import is_owner_or_staff
from core import kinds
from targets.api.managed import ERRORS
from targets.api.parsers import PlainTextParser, TextYAMLParser, XYAMLTextParser, YAMLTextParser
from targets.api.serializers import ErrorSerializer
from targets.writes import WriteResult

from .documents import API_VERSIONS, apply_parsed, parse_documents


class AppliedSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=f"{', '.join(API_VERSIONS)}, or RedisEnterpriseACL, "
                                           "RedisEnterpriseRole, RedisEnterpriseUser, RedisEnterpriseRoleBinding.")
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
        responses={200: ApplyResultSerializer, **ERRORS,
                   413: OpenApiResponse(ErrorSerializer, description="The body is over the apply size limit.")},
    )
    def post(self, request) -> Response:
        text = request.data if isinstance(request.data, str) else ""
        documents = parse_documents(text)
        if not request.user.is_staff:
            for document in documents:
                managed = kinds.by_api_kind(document.kind)
                if managed is None or not managed.team_scoped:
                    raise PermissionDenied(f"{document.path}: only staff may apply {document.kind} documents; "
                                           "nothing was applied.")
        team_name = request.query_params.get("team")
        team = owner_team_for(request.user, team_name) if team_name or not request.user.is_staff else None
        with transaction.atomic():
            # Another team's database is, to this user, a database that does not exist (see apply_parsed).
            results = apply_parsed(documents, actor=request.user, team=team,
                                   may_change=lambda obj: is_owner_or_staff(request.user, obj))
        return Response({"items": [self.summary(result) for result in results]})

    @staticmethod
    def summary(result: WriteResult) -> dict:
        obj = result.obj
        configuration = kinds.document_kind(getattr(obj, "api_kind", ""))
        if configuration is not None:
            return {"kind": configuration.api_kind, "name": obj.name, "generation": obj.generation,
                    "created": result.created, "changed": result.changed, "warnings": result.warnings}
        kind = kinds.of(obj)
        item = {"kind": kind.api_kind, "name": obj.name, "generation": obj.generation,
                "created": result.created, "changed": result.changed, "warnings": result.warnings}
        if kind.parent:
            item[kind.parent] = getattr(obj, kind.parent).name
        return item
