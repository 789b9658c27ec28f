from django.urls import path
from rest_framework.routers import SimpleRouter

from .certificates import CertificateSecretViewSet
from .views import ApiRootView, TargetViewSet

router = SimpleRouter()
router.register("targets", TargetViewSet, basename="target")
router.register("certificate-secrets", CertificateSecretViewSet, basename="certificate-secret")
urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    *router.urls,
]
