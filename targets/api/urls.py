from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApplyView, TargetViewSet

router = SimpleRouter()
router.register("targets", TargetViewSet, basename="target")
urlpatterns = [*router.urls, path("apply/", ApplyView.as_view(), name="apply")]
