"""The REDB as JSON, and the credentials body (which never appears in list/detail output)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from databases.spec import EVICTION_POLICIES, MAX_SHARDS, PERSISTENCE_MODES, TLS_MODES
from targets.api.serializers import ManagedObjectSerializer, NameField, memory_size_schema, spec_schema

SPEC_SCHEMA = spec_schema({
    "memorySize": memory_size_schema("At least 100MB per shard; MB/GB are 1024-based (Redis), M/G 1000-based."),
    "shardCount": {"type": "integer", "minimum": 1, "maximum": MAX_SHARDS},
    "replication": {"type": "boolean"},
    "persistence": {"type": "string", "enum": PERSISTENCE_MODES},
    "evictionPolicy": {"type": "string", "enum": EVICTION_POLICIES},
    "databasePort": {"type": "integer", "minimum": 1, "maximum": 65535,
                     "description": "From the target's database port range; unique per target; immutable."},
    "databaseSecretName": {"type": "string", "maxLength": 253},
    "redisVersion": {"type": "string", "maxLength": 253, "example": "7.2"},
    "tlsMode": {"type": "string", "enum": TLS_MODES},
    "modulesList": {"type": "array", "items": {"type": "object"}},
    "redisEnterpriseCluster": {"type": "object", "properties": {"name": {"type": "string"}}},
}, "The REDB spec (Redis Enterprise operator field names); docs/validation.md has every rule.")


@extend_schema_field(SPEC_SCHEMA)
class DatabaseSpecField(serializers.DictField):
    pass


class DatabaseSerializer(ManagedObjectSerializer):
    spec = DatabaseSpecField()
    cluster = NameField(read_only=True, help_text="The cluster (REC) the database runs on.")
    team = NameField(required=False, allow_null=True,
                     help_text="Owning team. Create: default is your only team; staff may name any team. Immutable.")


class CredentialsSerializer(serializers.Serializer):
    """How to connect, with the secret: returned only by POST .../credentials/, and recorded as an event."""

    host = serializers.CharField()
    port = serializers.IntegerField()
    serviceNames = serializers.ListField(child=serializers.CharField(), source="service_names")
    password = serializers.CharField()
    redisCli = serializers.CharField(source="redis_cli", help_text="A ready redis-cli command.")
    hints = serializers.ListField(child=serializers.CharField(),
                                  help_text="Extra steps to connect from elsewhere, e.g. kubectl port-forward.")
