"""Databases nested under their cluster, plus the flat filterable list."""
from rest_framework.routers import SimpleRouter

from .views import AllDatabasesViewSet, DatabaseViewSet

router = SimpleRouter()
router.register("databases", AllDatabasesViewSet, basename="all-databases")
router.register(r"clusters/(?P<cluster>[^/]+)/databases", DatabaseViewSet, basename="database")
urlpatterns = router.urls
