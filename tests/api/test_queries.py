"""List endpoints cost a fixed number of SQL queries, however many objects they return (no N+1)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from databases.services import create_database

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/api/v1/databases/", "/api/v1/clusters/rec/databases/", "/api/v1/clusters/"])
def test_list_queries_do_not_grow_with_the_number_of_databases(staff_api, cluster, team, member, url):
    create_database(cluster=cluster, name="db-0", spec={"memorySize": "100MB"}, team=team, actor=member)
    few = queries_for(staff_api, url)
    for index in range(1, 6):
        create_database(cluster=cluster, name=f"db-{index}", spec={"memorySize": "100MB"}, team=team, actor=member)

    assert queries_for(staff_api, url) == few
