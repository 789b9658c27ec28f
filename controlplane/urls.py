"""Top-level URLs: the REST API under /api/v1/, the dashboard at /, Django admin at /admin/."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("controlplane.api_urls")),
    path("", include("frontend.urls")),
]

# Errors under /api/ are JSON (targets/api/errors.py); elsewhere Django's pages.
handler404 = "targets.api.errors.not_found"
handler500 = "targets.api.errors.server_error"
