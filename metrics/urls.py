from django.urls import re_path

from .api import DatabaseMetricsView

urlpatterns = [
    re_path(r"^clusters/(?P<cluster>[^/]+)/databases/(?P<name>[^/.]+)/metrics/$", DatabaseMetricsView.as_view(),
            name="database-metrics"),
]
