"""/api/v1/access/: users, roles, role bindings and ACLs (staff only), and a user's password (reveal, rotate).

Writes go through access/services.py, the same path YAML documents take, so the one validator answers
every write; a user's password is never in a list or detail, only in the audited reveal."""
from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import CredentialsThrottle
from targets.api.managed import ERRORS, READ_ERRORS

from . import services
from .models import ACL, BINDING, ROLE, USER, AccessObject

PLURALS = {"acls": ACL, "roles": ROLE, "users": USER, "rolebindings": BINDING}
KIND_PARAMETER = OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(PLURALS),
                                  description="acls, roles, users or rolebindings.")


class AccessObjectSerializer(serializers.Serializer):
    kind = serializers.CharField(source="api_kind", read_only=True)
    namespace = serializers.CharField(required=False, default="default", max_length=63)
    name = serializers.CharField(max_length=253)
    generation = serializers.IntegerField(read_only=True)
    spec = serializers.JSONField(help_text="The operator's spec of the kind (docs/acl.md).")
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    status = serializers.JSONField(read_only=True, help_text="A user's observed state: `passwordSecret` (the Secret "
                                   "its password is read from) and `error` when that Secret is missing; never a "
                                   "password.")


class SpecSerializer(serializers.Serializer):
    spec = serializers.JSONField()


class UserCredentialsSerializer(serializers.Serializer):
    """The reveal and rotate answer: the one body holding a user's password."""
    username = serializers.CharField()
    password = serializers.CharField()


def _kind(plural: str) -> str:
    if plural not in PLURALS:
        raise Http404
    return PLURALS[plural]


def _object(plural: str, namespace: str, name: str) -> AccessObject:
    obj = AccessObject.objects.filter(api_kind=_kind(plural), namespace=namespace, name=name).first()
    if obj is None:
        raise Http404
    return obj


class AccessListView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=[KIND_PARAMETER], responses={200: AccessObjectSerializer(many=True), **READ_ERRORS})
    def get(self, request, kind: str) -> Response:
        """Every object of the kind (a user's password is never listed)."""
        objects = AccessObject.objects.filter(api_kind=_kind(kind))
        return Response(AccessObjectSerializer(objects, many=True).data)

    @extend_schema(parameters=[KIND_PARAMETER], request=AccessObjectSerializer,
                   responses={201: AccessObjectSerializer, 200: AccessObjectSerializer, **ERRORS})
    def post(self, request, kind: str) -> Response:
        """Create (or update, by namespace and name) one object; the spec is checked like a YAML document's."""
        body = AccessObjectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.apply_object(_kind(kind), name=body.validated_data["name"],
                                       namespace=body.validated_data["namespace"],
                                       spec=body.validated_data["spec"], actor=request.user)
        return Response(AccessObjectSerializer(result.obj).data,
                        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class AccessDetailView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=[KIND_PARAMETER], responses={200: AccessObjectSerializer, **READ_ERRORS})
    def get(self, request, kind: str, namespace: str, name: str) -> Response:
        return Response(AccessObjectSerializer(_object(kind, namespace, name)).data)

    @extend_schema(parameters=[KIND_PARAMETER], request=SpecSerializer,
                   responses={200: AccessObjectSerializer, **ERRORS})
    def put(self, request, kind: str, namespace: str, name: str) -> Response:
        """Replace the spec."""
        obj = _object(kind, namespace, name)
        body = SpecSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.apply_object(obj.api_kind, name=name, namespace=namespace,
                                       spec=body.validated_data["spec"], actor=request.user)
        return Response(AccessObjectSerializer(result.obj).data)

    @extend_schema(parameters=[KIND_PARAMETER], responses={204: None, **ERRORS})
    def delete(self, request, kind: str, namespace: str, name: str) -> Response:
        services.delete_object(_object(kind, namespace, name), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserPasswordView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses={200: UserCredentialsSerializer, **ERRORS})
    def post(self, request, namespace: str, name: str, action: str) -> Response:
        """`reveal-password`: the user's data-plane password; `rotate-password`: a new one, then revealed.
        Each is an event in the user's timeline."""
        user = _object("users", namespace, name)
        CredentialsThrottle().check(request)
        with transaction.atomic():
            if action == "rotate-password":
                services.rotate_password(user, actor=request.user)
            password = services.reveal_password(user, actor=request.user)
        return Response({"username": user.spec["username"], "password": password},
                        headers={"Cache-Control": "no-store"})
