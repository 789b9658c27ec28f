"""The REC as JSON: `{"name", "namespace", "target", "team", "spec", "generation", "status"}`."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clusters.validation import INGRESS_METHODS, MAX_NODES, UI_SERVICE_TYPES
from targets.api.serializers import (
    ManagedObjectSerializer,
    NameField,
    StrictCharField,
    memory_size_schema,
    spec_schema,
)

_AMOUNTS = {"type": "object", "properties": {
    "cpu": {"oneOf": [{"type": "string", "maxLength": 16, "example": "2"}, {"type": "number", "minimum": 0}]},
    "memory": memory_size_schema("Memory of each node; nodes x this is the cluster's capacity."),
}}
SPEC_SCHEMA = spec_schema({
    "nodes": {"type": "integer", "minimum": 1, "maximum": MAX_NODES, "description": "Odd; >= 3 on kubernetes."},
    "persistentSpec": {"type": "object", "properties": {
        "enabled": {"type": "boolean"}, "storageClassName": {"type": "string", "maxLength": 253},
        "volumeSize": memory_size_schema("Never shrinks."), "enablePersistentVolumeResize": {"type": "boolean"}}},
    "redisEnterpriseNodeResources": {"type": "object", "properties": {"limits": _AMOUNTS, "requests": _AMOUNTS}},
    "redisEnterpriseImageSpec": {"type": "object", "properties": {"versionTag": {"type": "string", "maxLength": 253}}},
    "uiServiceType": {"type": "string", "enum": UI_SERVICE_TYPES},
    "ingressOrRouteSpec": {"type": "object", "properties": {"method": {"type": "string", "enum": INGRESS_METHODS}}},
    "clusterRecovery": {"type": "boolean"},
    "username": {"type": "string", "maxLength": 253},
}, "The REC spec (Redis Enterprise operator field names); docs/validation.md has every rule.")


@extend_schema_field(SPEC_SCHEMA)
class ClusterSpecField(serializers.DictField):
    pass


class ClusterSerializer(ManagedObjectSerializer):
    spec = ClusterSpecField()
    namespace = StrictCharField(required=False, max_length=63,
                                help_text="Where the cluster lives on its target. Immutable.")
    target = NameField(required=False, help_text="Target name; default: the default target. Immutable.")
    team = NameField(read_only=True, allow_null=True, help_text="Owning team, if any.")
