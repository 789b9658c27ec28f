"""Objects and logged-in sockets for the dashboard's view and consumer tests."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.kube.conftest import kube_emulator  # noqa: F401  (the API server emulator, per test)


@pytest.fixture
def cluster(db):
    from clusters.models import Cluster
    from targets.models import Target

    return Cluster.objects.create(name="main", namespace="main", target=Target.default(),
                                  spec={"nodes": 3})


@pytest.fixture
def make_database(cluster):
    """Create a database row directly (the write path is tested elsewhere); returns a factory."""
    from databases.models import Database

    def make(name: str, team, *, port: int = 12001, **spec) -> Database:
        return Database.objects.create(name=name, cluster=cluster, team=team,
                                       spec={"memorySize": "100MB", "databasePort": port, **spec})

    return make


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def logged_in():
    """A Django test client logged in as the given user."""
    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client
    return login
