"""The API flow clusters and databases share: read, replace, merge, delete, upgrade, events, manifests.

A subclass names its serializer and queryset and adapts the write-path services of its kind
(`perform_*`); the HTTP behaviour (status codes, ETags, If-Match, `?deleteData=`) lives only here.
"""
from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.errors import SpecError
from targets.writes import WriteResult
from timeline.models import Event

from .concurrency import etag, expected_generation
from .parsers import BoundedJSONParser
from .serializers import ErrorSerializer, EventSerializer, ManifestListSerializer, UpgradeSerializer

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; nothing was changed."),
    401: OpenApiResponse(ErrorSerializer, description="No or an invalid token."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed (e.g. cluster writes by non-staff)."),
    404: OpenApiResponse(ErrorSerializer, description="No such object, or not yours."),
    409: OpenApiResponse(ErrorSerializer, description="Stale generation, or the object's state forbids it."),
    413: OpenApiResponse(ErrorSerializer, description="The body is larger than the limit; nothing was changed."),
    429: OpenApiResponse(ErrorSerializer, description="Throttled (too many failed token authentications from "
                                                      "the address, or credential reveals); see Retry-After."),
}
READ_ERRORS = {code: ERRORS[code] for code in (401, 404, 429)}
# Lists also refuse a `limit`/`offset` out of bounds.
LIST_ERRORS = {code: ERRORS[code] for code in (400, 401, 404, 429)}
IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER,
                            description='The generation the change was based on, as an ETag: "3". '
                                        "Stale: 409.")
DELETE_DATA = OpenApiParameter("deleteData", OpenApiTypes.BOOL, OpenApiParameter.QUERY,
                               description="Also remove data volumes/files (default: keep them).")


def object_schemas(serializer, create_example: dict) -> dict:
    """`extend_schema_view` arguments documenting a kind's object endpoints with its serializer."""
    writes = {200: serializer, **ERRORS}
    example = OpenApiExample("create", value=create_example, request_only=True)
    return {
        "list": extend_schema(responses={200: serializer(many=True), **LIST_ERRORS}),
        "retrieve": extend_schema(responses={200: serializer, **READ_ERRORS}),
        "create": extend_schema(responses={201: serializer, **ERRORS}, examples=[example]),
        "update": extend_schema(parameters=[IF_MATCH], responses=writes),
        "partial_update": extend_schema(parameters=[IF_MATCH], responses=writes),
        "destroy": extend_schema(parameters=[DELETE_DATA], responses={
            202: OpenApiResponse(serializer, "Marked for deletion; the reconciler removes it."), **ERRORS}),
        "upgrade": extend_schema(request=UpgradeSerializer, parameters=[IF_MATCH], responses=writes),
    }


def metadata_of(data: dict) -> dict:
    """The labels/annotations a body gives (a write without them leaves the stored ones)."""
    return {key: data[key] for key in ("labels", "annotations") if key in data}


def parse_bool(value: str | None, field: str) -> bool:
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes"}:
        return True
    if lowered in {"0", "false", "no", ""}:
        return False
    raise SpecError({field: [f"expected true or false, got {value!r}."]})


class ManagedObjectViewSet(viewsets.GenericViewSet):
    parser_classes = [BoundedJSONParser]
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    # Body fields a write may repeat but not change, e.g. {"name": ..., "namespace": ...}.
    fixed_fields: tuple[str, ...] = ("name",)

    # ---- what a kind adapts -------------------------------------------------------------------------
    def perform_update(self, obj, spec: dict, expected: int | None, metadata: dict) -> WriteResult:
        raise NotImplementedError

    def perform_upgrade(self, obj, version: str, expected: int | None) -> WriteResult:
        raise NotImplementedError

    def perform_delete(self, obj, delete_data: bool) -> None:
        raise NotImplementedError

    def render(self, obj) -> list[dict]:
        raise NotImplementedError

    def fixed_values(self, obj) -> dict[str, object]:
        """Current values of `fixed_fields`, as they appear in the body."""
        return {"name": obj.name}

    # ---- shared flow --------------------------------------------------------------------------------
    def respond(self, obj, *, warnings: list[str] | None = None, code: int = status.HTTP_200_OK,
                headers: dict | None = None) -> Response:
        try:
            obj.refresh_from_db()  # show the freshest status (an inline reconcile may have run on commit)
        except ObjectDoesNotExist:
            pass  # an inline reconcile already finished a deletion: answer with what was last stored
        context = {**self.get_serializer_context(), "warnings": warnings or []}
        data = self.get_serializer_class()(obj, context=context).data
        return Response(data, status=code, headers={"ETag": etag(obj.generation), **(headers or {})})

    def check_fixed_fields(self, obj, data: dict) -> None:
        current = self.fixed_values(obj)
        errors = {field: [f"cannot be changed (it is {current[field]!r}); create a new {obj.kind} instead."]
                  for field in self.fixed_fields if field in data and data[field] != current[field]}
        if errors:
            raise SpecError(errors)

    def list(self, request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs) -> Response:
        obj = self.get_object()
        return Response(self.get_serializer(obj).data, headers={"ETag": etag(obj.generation)})

    def update(self, request, *args, **kwargs) -> Response:
        """Replace the spec (the whole of it: keys left out return to their defaults)."""
        return self._write(request, merge=False)

    def partial_update(self, request, *args, **kwargs) -> Response:
        """Merge top-level spec keys into the stored spec; a key set to null is removed."""
        return self._write(request, merge=True)

    def _write(self, request, *, merge: bool) -> Response:
        obj = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=merge)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.check_fixed_fields(obj, data)
        expected = expected_generation(request, data.get("generation"))
        spec = dict(data.get("spec", {}))
        if merge:
            spec = {key: value for key, value in {**obj.spec, **spec}.items() if value is not None}
        result = self.perform_update(obj, spec, expected, metadata_of(data))
        return self.respond(obj, warnings=result.warnings)

    def destroy(self, request, *args, **kwargs) -> Response:
        obj = self.get_object()
        self.perform_delete(obj, parse_bool(request.query_params.get("deleteData"), "deleteData"))
        return self.respond(obj, code=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def upgrade(self, request, *args, **kwargs) -> Response:
        """Move to another Redis version the target offers (a rolling restart, one pod at a time)."""
        obj = self.get_object()
        body = UpgradeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        expected = expected_generation(request, body.validated_data.get("generation"))
        result = self.perform_upgrade(obj, body.validated_data["version"], expected)
        return self.respond(obj, warnings=result.warnings)

    @extend_schema(responses={200: EventSerializer(many=True), **LIST_ERRORS})
    @action(detail=True, methods=["get"])
    def events(self, request, *args, **kwargs) -> Response:
        """The object's timeline, newest first."""
        obj = self.get_object()
        events = Event.objects.filter(object_kind=obj.kind, object_id=obj.pk)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    @extend_schema(responses={200: ManifestListSerializer, **READ_ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None)
    def manifests(self, request, *args, **kwargs) -> Response:
        """The Kubernetes objects the object becomes, Secret values redacted."""
        obj = self.get_object()
        return Response({"apiVersion": "v1", "kind": "List", "items": self.render(obj)})
