"""Everything under /api/v1/. Each app contributes its routes from its own api/urls.py."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

for app in ("clusters", "databases", "targets"):
    try:
        urlpatterns.append(path("", include(f"{app}.api.urls")))
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.api.urls" and exc.name != f"{app}.api":
            raise
