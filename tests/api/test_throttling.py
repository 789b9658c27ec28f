"""API throttles at the shipped limits: failed token authentications per address, reveals per user."""
from __future__ import annotations

import secrets

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from timeline.models import Event

from .conftest import token_for

pytestmark = pytest.mark.django_db


def limit(scope: str) -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope].split("/")[0])


def client_at(address: str, token: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_random_tokens_are_refused_with_429_after_the_limit_even_a_valid_one(member):
    failures = limit("token_failures")
    answers = [client_at("203.0.113.7", secrets.token_hex(20)).get("/api/v1/databases/").status_code
               for _ in range(failures + 5)]
    assert answers == [401] * failures + [429] * 5

    refused = client_at("203.0.113.7", token_for("alice")).get("/api/v1/databases/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "Too many failed token authentications" in refused.json()["detail"]
    assert f"{refused['Retry-After']} s" in refused.json()["detail"]

    # Another address is not affected, and good requests never count as failures.
    elsewhere = client_at("198.51.100.9", token_for("alice"))
    assert [elsewhere.get("/api/v1/databases/").status_code for _ in range(failures + 5)] == [200] * (failures + 5)


def test_credential_reveals_are_throttled_per_user_across_api_and_dashboard(member, database, outsider,
                                                                           other_database):
    allowed = limit("credentials")
    api = client_at("127.0.0.1", token_for("alice"))
    url = f"/api/v1/clusters/rec/databases/{database.name}/credentials/"
    codes = [api.post(url).status_code for _ in range(allowed)]
    assert codes == [200] * allowed

    refused = api.post(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many credential reveals" in refused.json()["detail"]
    assert "password" not in refused.json()

    # The dashboard's button shares the count.
    from django.test import Client
    browser = Client()
    browser.force_login(member)
    page = browser.post(f"/databases/{database.pk}/credentials/", HTTP_ACCEPT="application/json")
    assert page.status_code == 429 and "Too many credential reveals" in page.json()["detail"]
    assert "password" not in page.json() and int(page["Retry-After"]) > 0
    html = browser.post(f"/databases/{database.pk}/credentials/")
    assert html.status_code == 429 and b"Too many credential reveals" in html.content
    assert database.password.encode() not in html.content

    # Only the allowed reveals happened (each is a timeline event); another user still may reveal.
    assert Event.objects.filter(object_id=database.pk, reason="CredentialsRevealed").count() == allowed
    other = client_at("127.0.0.1", token_for("bob")).post(
        f"/api/v1/clusters/rec/databases/{other_database.name}/credentials/")
    assert other.status_code == 200
