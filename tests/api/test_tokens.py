"""`manage.py create_token`: the token it prints authenticates API requests."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

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
    assert run("alice") == token  # stable until rotated


def test_rotate_replaces_the_token(member):
    old = run("alice")
    new = run("alice", "--rotate")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
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
