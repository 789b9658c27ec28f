"""API test fixtures: real token auth (tokens made by `manage.py create_token`) and objects made by the services."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.kube.conftest import kube_emulator  # noqa: F401  (the API server emulator, per test)

CLUSTER_SPEC = {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "4Gi"}}}
DATABASE_SPEC = {"memorySize": "256MB", "shardCount": 1, "replication": True}


def token_for(username: str) -> str:
    out = io.StringIO()
    call_command("create_token", username, stdout=out)
    return out.getvalue().strip()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user.username)}")
    return client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_api(staff_user) -> APIClient:
    return client_for(staff_user)


@pytest.fixture
def member_api(member) -> APIClient:
    return client_for(member)


@pytest.fixture
def outsider_api(outsider) -> APIClient:
    return client_for(outsider)


@pytest.fixture
def cluster(db, staff_user):
    from clusters.services import create_cluster

    return create_cluster(name="rec", spec=dict(CLUSTER_SPEC), actor=staff_user).obj


@pytest.fixture
def database(cluster, team, member):
    from databases.services import create_database

    return create_database(cluster=cluster, name="orders", spec=dict(DATABASE_SPEC), team=team, actor=member).obj


@pytest.fixture
def other_database(cluster, other_team, outsider):
    from databases.services import create_database

    return create_database(cluster=cluster, name="catalog", spec=dict(DATABASE_SPEC), team=other_team,
                           actor=outsider).obj
