"""`/api/v1/certificate-secrets/`: the certificates (client CAs) a REDB's `clientAuthenticationCertificates`
names on the local target. Staff write them; anyone signed in may read them (certificates are public).
Bad input is a 400 by field and changes nothing (targets/certificates.py checks it)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.permissions import IsStaffOrReadOnly
from dataplane.certificates import check_certificates
from targets.certificates import store_certificate_secret
from targets.models import CertificateSecret

from .managed import ERRORS, READ_ERRORS
from .parsers import BoundedJSONParser


class StaffWritesCertificates(IsStaffOrReadOnly):
    message = "Only staff may store or remove certificate secrets."


class CertificateSecretSerializer(serializers.ModelSerializer):
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    notAfter = serializers.SerializerMethodField(help_text="When the first certificate of the bundle expires.")

    class Meta:
        model = CertificateSecret
        fields = ["name", "certificate", "createdAt", "notAfter"]

    def get_notAfter(self, obj: CertificateSecret) -> str | None:  # noqa: N802 (the API's camelCase name)
        try:
            return f"{min(c.not_valid_after_utc for c in check_certificates(obj.certificate)):%Y-%m-%dT%H:%M:%SZ}"
        except ValueError:
            return None  # expired since it was stored


class CertificateSecretInput(serializers.Serializer):
    name = serializers.CharField(max_length=253)
    certificate = serializers.CharField(max_length=64 * 1024, trim_whitespace=False,
                                        help_text="PEM certificates (a client CA, usually); never a private key.")


@extend_schema_view(
    list=extend_schema(responses={200: CertificateSecretSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(responses={200: CertificateSecretSerializer, **READ_ERRORS}),
    create=extend_schema(request=CertificateSecretInput,
                         responses={200: CertificateSecretSerializer, 201: CertificateSecretSerializer, **ERRORS}),
    destroy=extend_schema(responses={204: None, **ERRORS}),
)
class CertificateSecretViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                               viewsets.GenericViewSet):
    """Certificates for mutual TLS (`clientAuthenticationCertificates`); POST creates or replaces one."""

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
        created = store_certificate_secret(body.validated_data["name"], body.validated_data["certificate"])
        stored = CertificateSecret.objects.get(name=body.validated_data["name"])
        return Response(CertificateSecretSerializer(stored).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
