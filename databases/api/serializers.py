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
    caCertificate = serializers.CharField(source="ca_certificate", allow_blank=True,
                                          help_text="With tlsMode on: the CA certificate (PEM) for redis-cli "
                                                    "--cacert; empty without TLS.")
