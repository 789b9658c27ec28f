"""The REC/REDB JSON rendered by ManagedObjectSerializer's prepared getters is exactly DRF's field-by-field
output, for rows as the list/detail reads load them (only the shown columns) and as writes load them."""
from __future__ import annotations

import pytest
from rest_framework import serializers

from clusters.api.serializers import ClusterSerializer
from clusters.models import Cluster
from databases.api.serializers import DatabaseSerializer
from databases.api.views import database_queryset, database_read_queryset
from databases.services import create_database, delete_database

pytestmark = pytest.mark.django_db


def both_ways(serializer_class, obj, **context) -> tuple[dict, dict]:
    serializer = serializer_class(context=context)
    return serializer.to_representation(obj), serializers.Serializer.to_representation(serializer, obj)


def test_prepared_rendering_is_drfs_for_databases_and_clusters(cluster, team, member, staff_user):
    create_database(cluster=cluster, name="orders", spec={"memorySize": "100MB"}, team=team, actor=member,
                    metadata={"labels": {"app": "shop"}, "annotations": {"note": "x"}})
    gone = create_database(cluster=cluster, name="old", spec={"memorySize": "100MB"}, team=team, actor=member).obj
    delete_database(gone, actor=member)
    for queryset in (database_read_queryset(staff_user), database_queryset(staff_user)):
        rows = list(queryset)
        assert {row.name for row in rows} == {"orders", "old"}
        for row in rows:
            fast, drf = both_ways(DatabaseSerializer, row, warnings=["w"])
            assert fast == drf
            assert fast["labels"] == ({"app": "shop"} if row.name == "orders" else {})
            assert fast["deleting"] is (row.name == "old") and fast["createdAt"].endswith("Z")
    fast, drf = both_ways(ClusterSerializer, Cluster.objects.select_related("target", "team").get())
    assert fast == drf and fast["target"] and fast["team"] is None
