"""Top-level URLs: the REST API under /api/v1/, the dashboard at /, Django admin at /admin/,
Prometheus series at /metrics."""
from django.contrib import admin
from django.urls import include, path

from metrics.views import MetricsView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("controlplane.api_urls")),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("", include("frontend.urls")),
]

# Errors under /api/ are JSON (targets/api/errors.py); elsewhere Django's pages.
handler404 = "targets.api.errors.not_found"
handler500 = "targets.api.errors.server_error"
