"""Everything under /api/v1/. Each app contributes its routes from its own api/urls.py."""
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from targets.api.errors import api_not_found

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("clusters.api.urls")),
    path("", include("databases.api.urls")),
    path("", include("metrics.urls")),
    path("", include("targets.api.urls")),
    path("", include("manifests.urls")),
    path("", include("access.urls")),
    path("", include("backups.urls")),
    # Last: any other URL under /api/v1/ is a JSON 404, never Django's HTML page.
    re_path(r"^(?P<path>.*)$", api_not_found),
]
