from django.urls import path

from .api import ApplyView

urlpatterns = [path("apply/", ApplyView.as_view(), name="apply")]
