"""Backup actions under a database's API endpoint: back up now, list backups, restore.

    POST .../databases/<name>/backup/    back up now (returns when stored; 409 with the reason if it failed)
    GET  .../databases/<name>/backups/   backups in its locations, recent runs, status.backupInfo
    POST .../databases/<name>/restore/   {"backup"?, "fromDatabase"?, "confirm"}: restore into this database
    POST .../databases/<name>/cutover/   {"confirm"}: end spec.replicaSources (the source refuses writes after)
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.permissions import IsOwnerOrStaff, is_owner_or_staff
from databases.api.views import database_queryset
from targets.api.errors import Conflict
from targets.api.managed import ERRORS, READ_ERRORS
from targets.api.serializers import ErrorSerializer

from . import services
from .models import BackupRun


class BackupRunSerializer(serializers.ModelSerializer):
    startedAt = serializers.DateTimeField(source="started_at")
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)

    class Meta:
        model = BackupRun
        fields = ["name", "ok", "error", "size", "locations", "actor", "startedAt", "finishedAt"]


class StoredBackupSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The backup's name (its time, UTC); restore takes it as `backup`.")
    locations = serializers.ListField(child=serializers.CharField(), help_text="Where it is stored.")


class BackupListSerializer(serializers.Serializer):
    backups = StoredBackupSerializer(many=True, help_text="Backups in the database's locations, newest first.")
    runs = BackupRunSerializer(many=True, help_text="The last backup attempts, newest first.")
    backupInfo = serializers.DictField(help_text="status.backupInfo: lastSuccess, size, nextRun, lastError...")


class RestoreSerializer(serializers.Serializer):
    backup = serializers.CharField(required=False, max_length=40,
                                   help_text="The backup's name (default: the newest).")
    fromDatabase = serializers.CharField(required=False, max_length=63,
                                         help_text="Restore a backup of this database of the same cluster "
                                                   "(default: this database's own backups).")
    confirm = serializers.BooleanField(default=False, help_text="Required when this database holds keys: "
                                                                "they are all replaced.")


class RestoreResultSerializer(serializers.Serializer):
    database = serializers.CharField()
    source = serializers.CharField(help_text="Which backup, from where.")
    keys = serializers.IntegerField(help_text="Keys put into the database.")


class CutOverSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(default=False, help_text="Required when this database holds keys: "
                                                                "they are all replaced by the source's.")


class DatabaseBackupViewSet(viewsets.GenericViewSet):
    """Only actions: routed under `clusters/<cluster>/databases/<name>/` beside the database's own endpoints
    (backups/urls.py), with the database viewset's lookup, visibility (another team's: 404) and permissions."""

    serializer_class = BackupRunSerializer
    permission_classes = [IsOwnerOrStaff]
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return database_queryset(self.request.user).filter(cluster__name=self.kwargs["cluster"])

    @extend_schema(request=None, responses={
        200: BackupRunSerializer,
        **ERRORS,
        409: OpenApiResponse(ErrorSerializer, description="The backup failed (the database or a location is not "
                                                          "available, one already runs); `detail` says why."),
        })
    @action(detail=True, methods=["post"])
    def backup(self, request, *args, **kwargs) -> Response:
        """Back up now: every shard's RDB with a manifest, to every location of spec.backup (recorded as an event)."""
        database = self.get_object()
        try:
            run = services.backup_now(database, actor=request.user)
        except services.ConcurrentBackup as exc:
            raise Conflict(str(exc)) from None
        except services.BackupError as exc:
            raise ValidationError({"spec.backup": [str(exc)]}) from None
        if not run.ok:
            raise Conflict(f"backup {run.name} failed: {run.error}", backup=BackupRunSerializer(run).data)
        return Response(BackupRunSerializer(run).data)

    @extend_schema(responses={200: BackupListSerializer, 409: ERRORS[409], **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def backups(self, request, *args, **kwargs) -> Response:
        """Backups stored for this database, its recent backup runs and status.backupInfo."""
        database = self.get_object()
        try:
            stored = services.stored_backups(database)
        except services.BackupError:
            stored = []
        except services.StorageError as exc:
            raise Conflict(str(exc)) from None
        runs = BackupRun.objects.filter(database=database)[:20]
        return Response({"backups": stored, "runs": BackupRunSerializer(runs, many=True).data,
                         "backupInfo": services.backup_info(database)})

    @extend_schema(request=RestoreSerializer, responses={200: RestoreResultSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs) -> Response:
        """Restore a backup into this database. Keys it holds are replaced only with `confirm` (409 otherwise);
        a corrupted backup is refused (400) and nothing changes. Recorded in the timeline with who did it."""
        database = self.get_object()
        body = RestoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        source = database
        if body.validated_data.get("fromDatabase"):
            source = get_object_or_404(database_queryset(request.user),
                                       cluster=database.cluster, name=body.validated_data["fromDatabase"])
            if not is_owner_or_staff(request.user, source):
                raise ValidationError({"fromDatabase": ["only its team and staff may restore its backups"]})
        try:
            result = services.restore(database, source=source, backup=body.validated_data.get("backup"),
                                      actor=request.user, confirm=body.validated_data["confirm"])
        except services.ConfirmationRequired as exc:
            raise Conflict(str(exc), errors={"confirm": [str(exc)]}) from None
        except services.BackupError as exc:
            raise ValidationError({"backup": [str(exc)]}) from None
        return Response(RestoreResultSerializer(result).data)

    @extend_schema(request=CutOverSerializer, responses={200: RestoreResultSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="cutover")
    def cutover(self, request, *args, **kwargs) -> Response:
        """Cut over from spec.replicaSources: the source is fenced (it refuses writes from now on: move writers
        here), every write it acknowledged is put into this database, and replicaSources is removed from the spec.
        Keys this database holds are replaced only with `confirm` (409 otherwise); nothing changes on failure."""
        database = self.get_object()
        body = CutOverSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = services.cut_over(database, actor=request.user, confirm=body.validated_data["confirm"])
        except services.ConfirmationRequired as exc:
            raise Conflict(str(exc), errors={"confirm": [str(exc)]}) from None
        except services.BackupError as exc:
            raise ValidationError({"spec.replicaSources": [str(exc)]}) from None
        return Response(RestoreResultSerializer(result).data)
