from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApiRootView, TargetViewSet

router = SimpleRouter()
router.register("targets", TargetViewSet, basename="target")
urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    *router.urls,
]
