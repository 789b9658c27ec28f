"""Sign-in lockout (django-axes) at the shipped limits: per username and per address, with a clear message."""
from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(username: str, password: str, address: str = "192.0.2.10"):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def test_wrong_passwords_lock_the_user_even_for_the_right_password(member):
    answers = [sign_in("alice", f"wrong-{i}").status_code for i in range(LIMIT - 1)]
    assert answers == [200] * (LIMIT - 1)  # the form again, "please enter a correct username and password"
    last = sign_in("alice", "wrong-last")
    assert last.status_code == 429

    locked = sign_in("alice", "alice-password-1")
    assert locked.status_code == 429 and "_auth_user_id" not in locked.client.session
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page and "Sign in" in page
    minutes = settings.AXES_COOLOFF_TIME.total_seconds() / 60
    assert f"locked for {minutes:g} minutes" in page
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())

    # The same user from another address is locked too (per user) ...
    assert sign_in("alice", "alice-password-1", address="198.51.100.20").status_code == 429
    # ... and once the lockout window has passed, the right password works again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert sign_in("alice", "alice-password-1").status_code == 302


def test_one_address_guessing_many_users_is_locked_out(member, outsider):
    for index in range(LIMIT):
        sign_in(f"user-{index}", "guess", address="192.0.2.99")
    # Bob's password is right, but the address is locked; from elsewhere Bob signs in.
    assert sign_in("bob", "bob-password-1", address="192.0.2.99").status_code == 429
    assert sign_in("bob", "bob-password-1", address="192.0.2.100").status_code == 302
