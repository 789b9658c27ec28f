"""`GET /metrics` for Prometheus. Not public: a staff user's API token or session, or the bearer in
`CONTROLPLANE_METRICS_TOKEN` (for a scraper that should hold no user). Nothing else may read it."""
from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from accounts.throttling import ThrottledTokenAuthentication

from .exposition import render


class MetricsScraper:
    """The principal of the configured bearer token."""

    is_authenticated = True
    is_staff = False


class MetricsBearerAuthentication(BaseAuthentication):
    def authenticate(self, request):
        expected = getattr(settings, "CONTROLPLANE_METRICS_TOKEN", "")
        words = get_authorization_header(request).split()
        if not expected or len(words) != 2 or words[0].lower() != b"bearer":
            return None
        if hmac.compare_digest(words[1], expected.encode()):
            return MetricsScraper(), None
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="metrics"'


class StaffOrScraper(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return isinstance(user, MetricsScraper) or bool(user and user.is_authenticated and user.is_staff)


class MetricsView(APIView):
    authentication_classes = [MetricsBearerAuthentication, ThrottledTokenAuthentication, SessionAuthentication]
    permission_classes = [StaffOrScraper]
    schema = None

    def get(self, request):
        return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
