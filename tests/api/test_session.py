"""The dashboard's session login also works for the API, with Django's CSRF protection on writes."""
from __future__ import annotations

import pytest
from django.http import HttpRequest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_logged_in_session_reads_the_api_and_writes_need_the_csrf_token(member, database):
    client = APIClient(enforce_csrf_checks=True)
    # Sign-ins go through django-axes, which needs the request they come with.
    assert client.login(request=HttpRequest(), username="alice", password="alice-password-1")

    assert client.get("/api/v1/databases/").json()["count"] == 1
    refused = client.patch("/api/v1/clusters/rec/databases/orders/", {"spec": {"memorySize": "512MB"}},
                           format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    client.get("/login/")  # sets the csrftoken cookie, as the dashboard's pages do
    token = client.cookies["csrftoken"].value
    accepted = client.patch("/api/v1/clusters/rec/databases/orders/", {"spec": {"memorySize": "512MB"}},
                            format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.content
