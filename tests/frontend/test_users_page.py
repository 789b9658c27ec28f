"""Issue 14: the dashboard's Users page: create an ACL, role, user and binding; reveal and rotate a password."""
from __future__ import annotations

import pytest

from access.models import AccessObject
from timeline.models import Event

pytestmark = pytest.mark.django_db


def submit(client, kind: str, prefix: str, **fields):
    data = {"kind": kind, f"{prefix}-namespace": "default", **{f"{prefix}-{k}": v for k, v in fields.items()}}
    return client.post("/users/", data)


def test_staff_create_bind_reveal_and_rotate(logged_in, staff_user):
    client = logged_in(staff_user)
    bad = submit(client, "RedisEnterpriseACL", "acl", name="reads", acl="+@read ~* >secret")
    assert bad.status_code == 400 and "passwords and on/off are not part of an ACL" in bad.content.decode()
    assert not AccessObject.objects.exists()
    assert submit(client, "RedisEnterpriseACL", "acl", name="reads", acl="+@read ~app:*").status_code == 302
    assert submit(client, "RedisEnterpriseRole", "role", name="reader", management_role="DBViewer",
                  databases="orders", acl="reads").status_code == 302
    assert submit(client, "RedisEnterpriseUser", "user", name="carol", username="carol",
                  email="carol@example.com").status_code == 302
    assert submit(client, "RedisEnterpriseRoleBinding", "rolebinding", name="carol-reads", role="reader",
                  users="carol").status_code == 302
    page = client.get("/users/").content.decode()
    user = AccessObject.objects.get(name="carol")
    assert 'data-binding="carol-reads"' in page and user.password not in page
    revealed = client.post(f"/users/{user.pk}/reveal-password/")
    assert user.password in revealed.content.decode() and revealed["Cache-Control"] == "no-store"
    rotated = client.post(f"/users/{user.pk}/rotate-password/").content.decode()
    user.refresh_from_db()
    assert user.password in rotated
    reasons = set(Event.objects.filter(object_kind="user").values_list("reason", flat=True))
    assert {"Created", "PasswordRevealed", "PasswordRotated"} <= reasons
    assert not Event.objects.filter(message__contains=user.password).exists()


def test_members_may_not_use_the_users_page(logged_in, member):
    client = logged_in(member)
    assert client.get("/users/").status_code == 403
    assert "Users</a>" not in client.get("/").content.decode()


def test_a_db_viewer_sees_the_database_page_and_may_not_edit_it(logged_in, outsider, make_database, team):
    from access.services import apply_object

    database = make_database("orders", team)
    client = logged_in(outsider)
    assert client.get(f"/databases/{database.pk}/").status_code == 404
    outsider.email = "bob@example.com"
    outsider.save()
    for kind, name, spec in [
            ("RedisEnterpriseACL", "reads", {"acl": "+@read ~*"}),
            ("RedisEnterpriseRole", "viewer", {"managementRole": "DBViewer", "scopes": [{"name": "orders"}],
                                               "acl": {"name": "reads"}}),
            ("RedisEnterpriseUser", "bob", {"username": "bob", "email": "bob@example.com"}),
            ("RedisEnterpriseRoleBinding", "bob-views",
             {"roleRef": {"name": "viewer"}, "subjects": [{"name": "bob"}]})]:
        apply_object(kind, name=name, namespace="main", spec=spec, actor="test")
    assert client.get(f"/databases/{database.pk}/").status_code == 200
    assert "orders" in client.get("/databases/").content.decode()
    assert client.get(f"/databases/{database.pk}/edit/").status_code == 403
