"""`/api/v1/clusters/<cluster>/databases/<name>/{backup,backups,restore}/`."""
from rest_framework.routers import SimpleRouter

from .api import DatabaseBackupViewSet

router = SimpleRouter()
router.register(r"clusters/(?P<cluster>[^/]+)/databases", DatabaseBackupViewSet, basename="database-backup")
urlpatterns = router.urls
