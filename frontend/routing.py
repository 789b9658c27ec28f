"""Websocket routes of the dashboard."""
from django.urls import path, re_path

from .consumers import StatusConsumer

websocket_urlpatterns: list = [
    path("ws/overview/", StatusConsumer.as_asgi()),
    re_path(r"^ws/(?P<kind>cluster|database)/(?P<pk>[0-9]+)/$", StatusConsumer.as_asgi()),
]
