"""`/api/v1/certificate-secrets/`: the certificates a REDB's `clientAuthenticationCertificates` (client CAs) or a
REC's `certificates.proxyCertificateSecretName` (a server certificate, stored with its key) names on the local
target. Staff write them; anyone signed in may read them: the certificates are public, a key is never shown
(`hasKey` says whether one is stored). Bad input is a 400 by field and changes nothing (targets/certificates.py)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.permissions import IsStaffOrReadOnly
from targets.certificates import delete_certificate_secret, store_certificate_secret, summary
from targets.models import CertificateSecret
from timeline.record import actor_name

from .managed import ERRORS, READ_ERRORS
from .parsers import BoundedJSONParser


class StaffWritesCertificates(IsStaffOrReadOnly):
    message = "Only staff may store or remove certificate secrets."


class CertificateSecretSerializer(serializers.ModelSerializer):
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    notAfter = serializers.SerializerMethodField(help_text="When the first certificate of the bundle expires.")
    subject = serializers.SerializerMethodField(help_text="The subject of the first certificate.")
    hasKey = serializers.SerializerMethodField(help_text="Whether a private key is stored with it (a server "
                                                         "certificate); the key itself is never shown.")

    class Meta:
        model = CertificateSecret
        fields = ["name", "certificate", "subject", "createdAt", "notAfter", "hasKey"]

    def get_notAfter(self, obj: CertificateSecret) -> str | None:  # noqa: N802 (the API's camelCase name)
        expires = summary(obj).not_after  # None: expired since it was stored
        return f"{expires:%Y-%m-%dT%H:%M:%SZ}" if expires else None

    def get_subject(self, obj: CertificateSecret) -> str:
        return summary(obj).subject

    def get_hasKey(self, obj: CertificateSecret) -> bool:  # noqa: N802 (the API's camelCase name)
        return summary(obj).has_key


class CertificateSecretInput(serializers.Serializer):
    name = serializers.CharField(max_length=253)
    certificate = serializers.CharField(max_length=64 * 1024, trim_whitespace=False,
                                        help_text="PEM certificates: a client CA, or a server certificate followed "
                                                  "by the CA that issued it; never a private key.")
    key = serializers.CharField(max_length=64 * 1024, trim_whitespace=False, required=False, allow_blank=True,
                                write_only=True, help_text="The server certificate's PEM private key (unencrypted); "
                                                           "stored encrypted, never shown back.")


@extend_schema_view(
    list=extend_schema(responses={200: CertificateSecretSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: CertificateSecretSerializer, **READ_ERRORS}),
    create=extend_schema(request=CertificateSecretInput,
                         responses={200: CertificateSecretSerializer, 201: CertificateSecretSerializer, **ERRORS}),
    destroy=extend_schema(responses={204: None, **ERRORS}),
)
class CertificateSecretViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                               viewsets.GenericViewSet):
    """Certificates for mutual TLS (`clientAuthenticationCertificates`) and server certificates with their key
    (`certificates.proxyCertificateSecretName`); POST creates or replaces one."""

    queryset = CertificateSecret.objects.all()
    serializer_class = CertificateSecretSerializer
    permission_classes = [StaffWritesCertificates]
    parser_classes = [BoundedJSONParser]
    pagination_class = None
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def create(self, request) -> Response:
        body = CertificateSecretInput(data=request.data)
        body.is_valid(raise_exception=True)
        created = store_certificate_secret(body.validated_data["name"], body.validated_data["certificate"],
                                           body.validated_data.get("key", ""), actor=actor_name(request.user))
        stored = CertificateSecret.objects.get(name=body.validated_data["name"])
        return Response(CertificateSecretSerializer(stored).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def perform_destroy(self, instance: CertificateSecret) -> None:
        delete_certificate_secret(instance.name, actor=actor_name(self.request.user))
