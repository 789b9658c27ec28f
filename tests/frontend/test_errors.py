"""An unexpected error in a dashboard page shows a friendly page, never Django's debug page, even in DEBUG.

The error here is a real one: the database's password was encrypted with a key that is no longer
configured (a key dropped from CONTROLPLANE_ENCRYPTION_KEYS before `rotate_encryption_key` ran).
"""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet


@pytest.fixture
def lost_key(settings, member, team, make_database):
    database = make_database("orders", team)
    settings.DEBUG = True  # as under `make run`
    settings.CONTROLPLANE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return database


def test_a_dashboard_error_renders_the_friendly_page_in_debug(lost_key, logged_in, member, caplog):
    response = logged_in(member).get(f"/databases/{lost_key.pk}/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page and "Back to the dashboard" in page
    assert "Traceback" not in page and "CONTROLPLANE_ENCRYPTION_KEYS" not in page and "settings" not in page.lower()
    reference = page.split("reference <code>")[1].split("</code>")[0]
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)


def test_a_dashboard_form_error_renders_the_friendly_page(lost_key, logged_in, member):
    response = logged_in(member).post(f"/databases/{lost_key.pk}/edit/", {"memory_size": "200MB"})
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_api_errors_stay_json(lost_key, member):
    from tests.api.conftest import client_for

    # The credentials endpoint is the API read that needs the password (lists and details skip it).
    response = client_for(member).post("/api/v1/clusters/main/databases/orders/credentials/")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("Internal error")


def test_not_found_and_not_allowed_keep_their_pages(settings, logged_in, member, outsider, team, make_database):
    settings.DEBUG = True
    database = make_database("orders", team)
    assert logged_in(member).get("/databases/999999/").status_code == 404
    assert logged_in(outsider).get(f"/databases/{database.pk}/").status_code == 404  # another team's
    assert logged_in(member).post("/clusters/new/", {"name": "edge"}).status_code == 403
