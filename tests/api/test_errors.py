"""Every API error is JSON in one shape: no HTML pages, no tracebacks, field-level messages."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

SHAPE = {"detail", "errors", "warnings"}


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    text = response.content.decode()
    assert "<html" not in text.lower() and "Traceback" not in text
    body = response.json()
    assert SHAPE <= set(body)
    return body


def test_an_unknown_url_under_the_api_is_a_json_404(staff_api):
    body = assert_json_error(staff_api.get("/api/v1/no-such-thing/"), 404)
    assert "/api/v1/no-such-thing/" in body["detail"]


def test_a_missing_trailing_slash_gets_a_hint(staff_api, cluster):
    body = assert_json_error(staff_api.get("/api/v1/clusters/rec"), 404)
    assert "/api/v1/clusters/rec/" in body["detail"]


def test_an_unknown_object_is_a_json_404(staff_api, db):
    assert_json_error(staff_api.get("/api/v1/clusters/nope/"), 404)
    assert_json_error(staff_api.get("/api/v1/clusters/nope/databases/"), 404)
    assert_json_error(staff_api.get("/api/v1/clusters/nope/databases/x/"), 404)


def test_a_wrong_method_is_a_json_405(staff_api, db):
    assert_json_error(staff_api.delete("/api/v1/clusters/"), 405)
    assert_json_error(staff_api.post("/api/v1/databases/", {}, format="json"), 405)


def test_malformed_json_is_a_json_400(staff_api, db):
    response = staff_api.generic("POST", "/api/v1/clusters/", "{not json", content_type="application/json")
    assert_json_error(response, 400)


def test_a_form_body_is_refused_as_unsupported(staff_api, db):
    response = staff_api.post("/api/v1/clusters/", {"name": "rec"})  # multipart
    assert_json_error(response, 415)


def test_missing_fields_are_named(staff_api, db):
    body = assert_json_error(staff_api.post("/api/v1/clusters/", {}, format="json"), 400)
    assert {"name", "spec"} <= set(body["errors"])


def test_permission_errors_are_json(member_api, anonymous, cluster):
    assert_json_error(member_api.delete("/api/v1/clusters/rec/"), 403)
    assert_json_error(anonymous.get("/api/v1/databases/"), 401)


def test_flatten_errors_gives_dotted_field_paths():
    from targets.api.errors import flatten_errors

    nested = {"spec": {"persistentSpec": {"volumeSize": ["too small"]}}, "items": [{}, {"name": ["bad"]}],
              "non_field_errors": ["whole body"]}
    assert flatten_errors(nested) == {
        "spec.persistentSpec.volumeSize": ["too small"],
        "items[1].name": ["bad"],
        "non_field_errors": ["whole body"],
    }


def test_unknown_urls_elsewhere_under_api_are_json_too(staff_api, db):
    body = assert_json_error(staff_api.get("/api/v2/clusters/"), 404)
    assert "/api/v2/clusters/" in body["detail"]


def test_an_unhandled_error_under_api_is_a_json_500_without_traceback(rf):
    from targets.api.errors import server_error

    response = server_error(rf.get("/api/v1/clusters/"))
    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"<html" not in response.content
