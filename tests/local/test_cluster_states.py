"""A new local cluster walks the REC states a user watches: PendingCreation -> Initializing -> Running."""
import pytest

from timeline.models import Event


@pytest.mark.django_db(transaction=True)
def test_new_cluster_goes_pending_initializing_running(local_target):
    from clusters.services import create_cluster
    from engine.reconcile import reconcile

    cluster = create_cluster(name="states", namespace="states", spec={"nodes": 3}, target=local_target,
                             actor="test").obj
    assert cluster.state == "PendingCreation"

    first = reconcile("cluster", cluster.pk)  # starts the sentinels
    cluster.refresh_from_db()
    assert (first.state, first.settled) == ("Initializing", False)
    assert any(c["type"] == "MembersConfirmed" and c["status"] == "False" for c in cluster.status["conditions"])

    second = reconcile("cluster", cluster.pk)  # the members are still up: confirmed
    assert (second.state, second.settled) == ("Running", True)

    transitions = list(Event.objects.filter(object_kind="cluster", object_id=cluster.pk, reason="StateChanged")
                       .order_by("id").values_list("message", flat=True))
    assert [m.split(":")[0] for m in transitions] == ["PendingCreation -> Initializing", "Initializing -> Running"]
    assert "just started" in transitions[0]  # the event says why, from the failing condition


@pytest.mark.django_db(transaction=True)
def test_a_new_database_shows_pending_before_its_first_reconcile(make_cluster, team):
    from databases.services import create_database

    database = create_database(cluster=make_cluster(), name="fresh", spec={"memorySize": "100MB"}, team=team,
                               actor="test").obj
    assert database.state == "pending" and database.status["observedGeneration"] == 0
