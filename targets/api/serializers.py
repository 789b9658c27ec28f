"""JSON shapes shared by the cluster and database APIs (the REC/REDB object shape) and small bodies.

Serializers only shape JSON. What makes a spec valid is decided by the write-path services, whose
`SpecError` the API returns as field-level 400s.
"""
from __future__ import annotations

from datetime import UTC
from operator import attrgetter

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import _UnvalidatedField  # a DictField without a child type: values as they are

from operatorapi.schema import Kind, api_reference
from targets.models import Target
from timeline.models import Event

MAX_GENERATION = 2**63 - 1


class StrictCharField(serializers.CharField):
    """A string that must arrive as a JSON string: `"name": 123` is a type error, never coerced to "123"."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, not {type(data).__name__}.")
        return super().to_internal_value(data)


class ManagedObjectSerializer(serializers.Serializer):
    """`{"name", "team", "spec", "generation", "status", ...}`: what clusters and databases share.

    On input `generation` is the generation the change was based on (optimistic concurrency);
    on output it is the stored generation.
    """

    name = StrictCharField(max_length=253, help_text="DNS-1123 label; immutable.")
    spec = serializers.DictField(
        help_text="The REC/REDB spec with the Redis Enterprise operator's camelCase field names.")
    generation = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_GENERATION,
        help_text="Output: the stored generation. Input: the generation this change was based on; "
                  "a stale value gets 409 (the If-Match header works too).")
    labels = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False,
        help_text="Kubernetes labels of the REC/REDB, kept as given. A write without them leaves them.")
    annotations = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False,
        help_text="Kubernetes annotations of the REC/REDB, kept as given. A write without them leaves them.")
    status = serializers.DictField(read_only=True, help_text="state, specStatus, observedGeneration, conditions.")
    deleting = serializers.SerializerMethodField(help_text="Deletion was requested; the reconciler removes it.")
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    warnings = serializers.SerializerMethodField(
        help_text="Write responses only: accepted operator fields this project does not use.")

    def get_deleting(self, obj) -> bool:
        return obj.deletion_requested_at is not None

    def to_representation(self, instance) -> dict:
        """The same JSON as DRF's field-by-field walk (tests/api/test_representation.py compares them), from
        getters prepared once per serializer: list pages render every row with them, at about a third of
        DRF's cost per field."""
        renderers = self.__dict__.get("_renderers")
        if renderers is None:
            renderers = self.__dict__["_renderers"] = [(field.field_name, renderer(field))
                                                       for field in self._readable_fields]
        return {name: render(instance) for name, render in renderers}

    def get_warnings(self, obj) -> list[str]:
        return list(self.context.get("warnings", []))


def utc_timestamp(value) -> str | None:
    """DRF's ISO 8601 output for an aware datetime in UTC (TIME_ZONE is UTC): "...T12:00:00.123456Z"."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def renderer(field: serializers.Field):
    """A function object -> the field's JSON value, for the field kinds ManagedObjectSerializer has; any
    other field goes through DRF's own get_attribute/to_representation."""
    if isinstance(field, serializers.SerializerMethodField):
        return getattr(field.parent, field.method_name)
    if len(field.source_attrs) != 1:
        return lambda obj: drf_value(field, obj)
    get = attrgetter(field.source_attrs[0])
    if type(field) is serializers.DateTimeField:
        return lambda obj: utc_timestamp(get(obj))
    if type(field) is NameField:
        return lambda obj: field.to_representation(get(obj))
    if isinstance(field, serializers.DictField) and isinstance(field.child, _UnvalidatedField):
        return lambda obj: None if (value := get(obj)) is None else {str(key): item for key, item in value.items()}
    return lambda obj: drf_value(field, obj)


def drf_value(field: serializers.Field, obj):
    """What DRF's Serializer.to_representation puts under the field (None stays None)."""
    value = field.get_attribute(obj)
    return None if value is None else field.to_representation(value)


class UpgradeSerializer(serializers.Serializer):
    version = StrictCharField(max_length=32, help_text="A Redis version the target offers, e.g. \"7.2\".")
    generation = serializers.IntegerField(required=False, min_value=1, max_value=MAX_GENERATION,
                                          help_text="The generation this upgrade was based on.")


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["time", "type", "reason", "message", "actor"]


class ManifestListSerializer(serializers.Serializer):
    """A Kubernetes `List` of what the object becomes, Secret values redacted."""

    apiVersion = serializers.CharField(default="v1")
    kind = serializers.CharField(default="List")
    items = serializers.ListField(child=serializers.DictField())


class TargetSerializer(serializers.ModelSerializer):
    """A target as shown: how it is reached and its last check. The kubeconfig is never shown back."""

    isDefault = serializers.BooleanField(source="is_default", read_only=True)
    redisVersions = serializers.SerializerMethodField(help_text="Versions clusters and databases may run here.")
    context = serializers.SerializerMethodField(help_text="The kubeconfig context used (empty: its current one).")
    inCluster = serializers.SerializerMethodField(help_text="Reached with the control plane's own service account.")
    serverVersion = serializers.CharField(source="server_version", read_only=True,
                                          help_text="The API server's version at the last check.")
    checkedAt = serializers.DateTimeField(source="checked_at", read_only=True, allow_null=True)
    checkError = serializers.CharField(source="check_error", read_only=True,
                                       help_text="Why the last check could not reach the target (empty: it could).")
    missingPermissions = serializers.ListField(
        source="missing_permissions", child=serializers.CharField(), read_only=True,
        help_text='Permissions the control plane needs but lacks there, e.g. "delete statefulsets.apps".')
    clusters = serializers.SerializerMethodField(help_text="How many clusters run on this target.")
    warnings = serializers.SerializerMethodField(help_text="Write responses only: e.g. missing permissions.")

    class Meta:
        model = Target
        fields = ["name", "kind", "isDefault", "redisVersions", "context", "inCluster", "serverVersion", "checkedAt",
                  "checkError", "missingPermissions", "clusters", "warnings"]

    def get_redisVersions(self, target: Target) -> list[str]:
        return self.context["versions"].get(target.pk, [])

    def get_context(self, target: Target) -> str:
        return str((target.settings or {}).get("context", ""))

    def get_inCluster(self, target: Target) -> bool:
        return bool((target.settings or {}).get("in_cluster"))

    def get_clusters(self, target: Target) -> int:
        return target.clusters.count()

    def get_warnings(self, target: Target) -> list[str]:
        return list(self.context.get("warnings", []))


class TargetConnectionSerializer(serializers.Serializer):
    """How to reach a Kubernetes API server (POST: all of it; PATCH: what changes)."""

    kubeconfig = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False,
                                       max_length=256 * 1024,
                                       help_text="kubeconfig YAML; stored encrypted, never shown back.")
    context = serializers.CharField(required=False, allow_blank=True, max_length=253,
                                    help_text="A context of the kubeconfig (default: its current-context).")
    inCluster = serializers.BooleanField(required=False,
                                         help_text="Use the control plane's own service account instead.")


class TargetCreateSerializer(TargetConnectionSerializer):
    name = StrictCharField(max_length=63, help_text="DNS-1123 label; immutable.")


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text='Messages by field path, e.g. {"spec.memorySize": ["..."]}.')
    warnings = serializers.ListField(child=serializers.CharField())


def spec_field(kind: Kind) -> serializers.DictField:
    """The `spec` field of `kind`, typed in the OpenAPI document by the schema of its CRD."""

    @extend_schema_field(api_reference(kind))
    class SpecField(serializers.DictField):
        pass

    return SpecField(help_text=f"The {kind.short_name.upper()} spec with the Redis Enterprise operator's camelCase "
                               "field names; every field the operator defines is accepted.")


@extend_schema_field(OpenApiTypes.STR)
class NameField(serializers.Field):
    """A related row shown and given by its name (`"target": "local"`); the write path resolves it."""

    def to_representation(self, value) -> str | None:
        return value.name if value is not None else None

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str) or not data:
            raise serializers.ValidationError("expected a name (a non-empty string).")
        if len(data) > 253:
            raise serializers.ValidationError("must be at most 253 characters.")
        return data
