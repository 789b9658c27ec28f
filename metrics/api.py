"""`GET /api/v1/clusters/<cluster>/databases/<name>/metrics/`: the database page's charts and badge.

Visibility is the databases API's own (another team's database is a 404)."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from databases.api.views import database_queryset
from targets.api.managed import ERRORS

from .charts import chart_payload


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


class DatabaseMetricsView(APIView):
    @extend_schema(operation_id="clusters_databases_metrics_retrieve", tags=["clusters"],
                   parameters=[OpenApiParameter("cluster", OpenApiTypes.STR, OpenApiParameter.PATH),
                               OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH)],
                   responses={200: MetricsSerializer, **ERRORS})
    def get(self, request, cluster: str, name: str) -> Response:
        """The last hour of samples (ops/s, memory used and limit, clients, keys, hit ratio, replication
        lag, latency), oldest first, the alerts firing now, and the database's exporter URL."""
        database = get_object_or_404(database_queryset(request.user), cluster__name=cluster, name=name)
        return Response(chart_payload(database), headers={"Cache-Control": "no-store"})
