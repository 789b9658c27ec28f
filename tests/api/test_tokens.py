"""`manage.py create_token`: the token it prints authenticates API requests; only its digest is stored."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_token", *args, stdout=out)
    return out.getvalue().strip()


def test_the_printed_token_authenticates(member):
    token = run("alice")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert client.get("/api/v1/databases/").status_code == 200


def test_only_a_digest_is_stored_and_every_issued_token_stays_valid(member):
    first, second = run("alice"), run("alice")
    assert first != second  # a token is printed once; asking again issues another
    stored = list(ApiToken.objects.filter(user=member).values_list("digest", "prefix"))
    assert len(stored) == 2
    for digest, prefix in stored:
        assert digest not in (first, second) and len(digest) == 64
        assert prefix in (first[:8], second[:8])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        dump = repr(cursor.fetchall())
    assert first not in dump and second not in dump
    for token in (first, second):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get("/api/v1/databases/").status_code == 200


def test_rotate_revokes_the_other_tokens(member):
    old = run("alice")
    new = run("alice", "--rotate")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/databases/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/v1/databases/").status_code == 200


def test_an_inactive_users_token_is_refused(member):
    token = run("alice")
    member.is_active = False
    member.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/databases/").status_code == 401


def test_an_unknown_user_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        run("nobody")


def test_create_makes_an_api_only_user_in_a_team(db):
    token = run("carol", "--create", "--team", "payments")
    user = get_user_model().objects.get(username="carol")
    assert not user.has_usable_password()
    assert [t.name for t in user.teams.all()] == ["payments"]
    assert len(token) == 40


def test_an_invalid_team_name_is_refused(db):
    with pytest.raises(CommandError, match="team"):
        run("carol", "--create", "--team", "Not A Slug")
    assert not get_user_model().objects.filter(username="carol").exists()


def test_make_run_prints_the_same_token_at_every_start(member, tmp_path, monkeypatch):
    """Only a digest is stored, so `make run` keeps its admin token in a private file under var/."""
    from controlplane import devstack

    monkeypatch.setattr(devstack, "VAR_DIR", tmp_path)
    first = devstack.dev_token(member)
    assert devstack.dev_token(member) == first
    assert oct((tmp_path / "admin-token").stat().st_mode & 0o777) == "0o600"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert client.get("/api/v1/databases/").status_code == 200

    ApiToken.objects.filter(user=member).delete()  # revoked in the admin: the next start issues another
    assert devstack.dev_token(member) != first
