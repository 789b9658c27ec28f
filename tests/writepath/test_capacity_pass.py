"""The stored-spec capacity check reads a cluster's databases once per periodic pass, not once per database."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters.capacity import database_footprints, footprints_read_once
from databases.services import create_database


def test_a_pass_reads_each_clusters_footprints_once_and_writes_read_fresh(cluster):
    for name in ("a", "b", "c", "d"):
        create_database(cluster=cluster, name=name, spec={"memorySize": "100MB"}, team=None, actor="t")

    with CaptureQueriesContext(connection) as fresh:
        results = [database_footprints(cluster) for _ in range(4)]
    with footprints_read_once(), CaptureQueriesContext(connection) as cached:
        cached_results = [database_footprints(cluster) for _ in range(4)]
    assert len(fresh) == 4 and len(cached) == 1
    assert cached_results == results and len(results[0]) == 4

    with footprints_read_once():
        before = database_footprints(cluster)
    create_database(cluster=cluster, name="e", spec={"memorySize": "100MB"}, team=None, actor="t")
    assert len(database_footprints(cluster)) == len(before) + 1  # outside a pass nothing is cached
