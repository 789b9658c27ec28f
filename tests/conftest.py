"""Fixtures every test area shares: the control plane's own Redis and users/teams."""
from __future__ import annotations

import pytest

from .servers import redis_server


@pytest.fixture(scope="session", autouse=True)
def controlplane_redis(tmp_path_factory):
    """A real Redis for the reconcile locks, the Celery broker and the Channels layer."""
    from django.conf import settings

    from controlplane import settings as settings_module
    from controlplane.celery import app as celery_app

    with redis_server() as url:
        settings.REDIS_URL = url
        settings.CELERY_BROKER_URL = url
        settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [settings_module.channel_layer_host(url)]
        settings.CONTROLPLANE_RECONCILE_MODE = "manual"
        settings.VAR_DIR = tmp_path_factory.mktemp("var")
        celery_app.conf.broker_url = url
        yield url


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counts live in the process's cache: each test starts with none (login failures live in
    the test database and roll back with it)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def team(db):
    from accounts.models import Team

    return Team.objects.create(name="payments")


@pytest.fixture
def other_team(db):
    from accounts.models import Team

    return Team.objects.create(name="search")


@pytest.fixture
def staff_user(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("ops", password="ops-password-1", is_staff=True)


@pytest.fixture
def member(db, team):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("alice", password="alice-password-1")
    team.members.add(user)
    return user


@pytest.fixture
def outsider(db, other_team):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bob", password="bob-password-1")
    other_team.members.add(user)
    return user
