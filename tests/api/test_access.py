"""Issue 14: users, roles, bindings and ACLs over the API; managementRole as control-plane permissions."""
from __future__ import annotations

import pytest

from access.models import AccessObject
from timeline.models import Event

from .conftest import client_for

pytestmark = pytest.mark.django_db


def post(api, kind: str, name: str, spec: dict):
    return api.post(f"/api/v1/access/{kind}/", {"name": name, "spec": spec}, format="json")


def grant(api, role: str, user_email: str, database: str = "orders"):
    assert post(api, "acls", "reads", {"acl": "+@read ~*"}).status_code in (200, 201)
    assert post(api, "roles", role.lower(), {"managementRole": role, "scopes": [{"name": database}],
                                     "acl": {"name": "reads"}}).status_code == 201
    assert post(api, "users", f"u-{role.lower()}", {"username": f"u-{role.lower()}",
                                                     "email": user_email}).status_code == 201
    binding = {"roleRef": {"name": role.lower()}, "subjects": [{"name": f"u-{role.lower()}"}]}
    assert post(api, "rolebindings", f"b-{role.lower()}", binding).status_code == 201


def test_a_bad_acl_is_a_field_error_and_only_staff_manage_access(staff_api, member_api):
    bad = post(staff_api, "acls", "x", {"acl": "+@read ~* >pw"})
    assert bad.status_code == 400 and "spec.acl" in bad.json()["errors"]
    assert not AccessObject.objects.exists()
    assert post(member_api, "acls", "x", {"acl": "+@read"}).status_code == 403
    assert staff_api.get("/api/v1/access/nonsense/").status_code == 404  # the JSON 404 of unknown URLs


def test_user_password_is_never_listed_and_reveal_and_rotate_are_audited(staff_api):
    assert post(staff_api, "users", "carol", {"username": "carol", "email": "carol@example.com"}).status_code == 201
    user = AccessObject.objects.get(name="carol")
    listed = staff_api.get("/api/v1/access/users/").content.decode()
    detail = staff_api.get("/api/v1/access/users/default/carol/").content.decode()
    assert "carol@example.com" in listed and user.password not in listed and user.password not in detail
    revealed = staff_api.post("/api/v1/access/users/default/carol/reveal-password/").json()
    assert revealed == {"username": "carol", "password": user.password}
    rotated = staff_api.post("/api/v1/access/users/default/carol/rotate-password/").json()["password"]
    assert rotated != user.password
    reasons = list(Event.objects.filter(object_kind="user", object_id=user.pk).values_list("reason", flat=True))
    assert {"Created", "PasswordRevealed", "PasswordRotated"} <= set(reasons)
    assert not Event.objects.filter(message__contains=rotated).exists()


def test_db_viewer_sees_the_database_and_db_member_may_change_it(staff_api, database, outsider, member):
    outsider_api = client_for(outsider)
    url = "/api/v1/clusters/rec/databases/orders/"
    assert outsider_api.get(url).status_code == 404
    outsider.email = "bob@example.com"
    outsider.save()
    grant(staff_api, "DBViewer", "bob@example.com")
    assert outsider_api.get(url).status_code == 200
    assert "orders" in outsider_api.get("/api/v1/databases/").content.decode()
    assert outsider_api.patch(url, {"spec": {"memorySize": "300MB"}}, format="json").status_code == 403
    grant(staff_api, "DBMember", "bob@example.com")
    assert outsider_api.patch(url, {"spec": {"memorySize": "300MB"}}, format="json").status_code == 200
