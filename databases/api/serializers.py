"""The REDB as JSON, and the credentials body (which never appears in list/detail output)."""
from __future__ import annotations

from rest_framework import serializers

from operatorapi.schema import REDB
from targets.api.serializers import ManagedObjectSerializer, NameField, spec_field


class DatabaseSerializer(ManagedObjectSerializer):
    spec = spec_field(REDB)
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


class SampleSerializer(serializers.Serializer):
    t = serializers.FloatField(help_text="Unix seconds.")
    ops_per_sec = serializers.FloatField()
    used_memory = serializers.IntegerField(help_text="Bytes.")
    maxmemory = serializers.IntegerField(help_text="Bytes; 0 is no limit.")
    clients = serializers.IntegerField()
    keys = serializers.IntegerField()
    hit_ratio = serializers.FloatField(allow_null=True, help_text="Hits / lookups since the previous sample.")
    replication_lag = serializers.FloatField(allow_null=True, help_text="Seconds, slowest replica.")
    latency_usec = serializers.FloatField(allow_null=True, help_text="Server time per command.")


class AlertSerializer(serializers.Serializer):
    setting = serializers.CharField(help_text="The alertSettings key, e.g. bdb_size.")
    value = serializers.FloatField()
    threshold = serializers.FloatField()
    message = serializers.CharField()


class MetricsSerializer(serializers.Serializer):
    interval = serializers.IntegerField(help_text="Seconds between samples.")
    samples = SampleSerializer(many=True)
    alerts = AlertSerializer(many=True)
    metricsEndpoint = serializers.CharField(help_text="The database's Prometheus exporter, where there is one.")
