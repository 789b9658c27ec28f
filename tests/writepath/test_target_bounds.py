"""What the local target can realise bounds a spec up front; a database it cannot realise is still deletable."""
from __future__ import annotations

import pytest

from core.drivers import driver_for
from core.errors import TargetError
from databases.models import Database
from databases.services import create_database, delete_database
from engine.reconcile import reconcile

from .conftest import errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def few_shard_ports(settings):
    """A shard range of four ports (in a corner of the default range other tests do not reach)."""
    settings.CONTROLPLANE_LOCAL_PORTS = {**settings.CONTROLPLANE_LOCAL_PORTS, "shard": (17990, 17993)}
    return range(17990, 17994)


def test_more_shard_processes_than_free_ports_is_a_field_error(cluster, few_shard_ports):
    errors = errors_of(create_database, cluster=cluster, name="wide", team=None, actor="t",
                       spec={"memorySize": "300MB", "shardCount": 3, "replication": True})
    assert errors == {"spec.shardCount": [
        "needs 6 shard processes but only 4 ports of the shard range 17990-17993 are free on target local"]}
    assert not Database.objects.exists()
    assert create_database(cluster=cluster, name="fits", team=None, actor="t",
                           spec={"memorySize": "200MB", "shardCount": 2, "replication": True}).created


def test_a_database_whose_ports_cannot_be_allocated_is_still_deleted(cluster, few_shard_ports, settings):
    database = create_database(cluster=cluster, name="stuck", team=None, actor="t",
                               spec={"memorySize": "300MB", "shardCount": 3}).obj
    settings.CONTROLPLANE_LOCAL_PORTS = {**settings.CONTROLPLANE_LOCAL_PORTS, "shard": (17990, 17990)}
    driver = driver_for(cluster.target)
    with pytest.raises(TargetError, match="no free shard port left"):
        driver.apply_database(database)  # took the one port, then ran out
    delete_database(database, actor="t")
    assert reconcile("database", database.pk).gone
    assert not Database.objects.filter(pk=database.pk).exists()
    assert not [key for key in driver.ports.all() if key.startswith("db/rec/stuck/")]


def test_a_stored_absurd_shard_count_is_invalid_and_deletes_without_walking_it(cluster):
    database = create_database(cluster=cluster, name="legacy", team=None, actor="t", spec={}).obj
    Database.objects.filter(pk=database.pk).update(spec={**database.spec, "shardCount": 10**15})
    outcome = reconcile("database", database.pk)
    database.refresh_from_db()
    assert outcome.state == "Invalid" and "shardCount: must be at most 512" in str(database.status)
    delete_database(database, actor="t")
    assert reconcile("database", database.pk).gone


def test_a_database_port_something_listens_on_is_refused(cluster):
    import socket

    from localtarget.ports import port_range

    def listen_on_a_free_port(listener: socket.socket) -> int:
        for candidate in port_range("database"):
            try:
                listener.bind(("127.0.0.1", candidate))
            except OSError:
                continue  # taken (another test run may hold ports of the range)
            listener.listen()
            return candidate
        raise AssertionError("no free port in the database range")

    with socket.socket() as listener:
        port = listen_on_a_free_port(listener)
        errors = errors_of(create_database, cluster=cluster, name="clash", team=None, actor="t",
                           spec={"databasePort": port})
    assert errors == {"spec.databasePort": [f"port {port} is in use on this machine; choose another"]}


def test_replica_ssl_without_room_for_the_tls_sentinel_group_is_refused_on_tls_mode(cluster, settings):
    """The TLS sentinel group (3 members, two ports each) must fit the sentinel range before the write is taken."""
    settings.CONTROLPLANE_LOCAL_PORTS = {**settings.CONTROLPLANE_LOCAL_PORTS, "sentinel": (26990, 26994)}
    spec = {"memorySize": "100MB", "replication": True, "tlsMode": "replica_ssl"}
    errors = errors_of(create_database, cluster=cluster, name="secure", team=None, actor="t", spec=spec)
    assert errors == {"spec.tlsMode": [
        "replica_ssl needs the cluster's TLS sentinel group (3 sentinels, two ports each) but only 5 ports of the "
        "sentinel range 26990-26994 are free; use tlsMode enabled, or widen the range (CP_SENTINEL_PORT_MIN/MAX)"]}
    assert not Database.objects.exists()
    for index, fits in enumerate(({**spec, "tlsMode": "enabled"}, {**spec, "replication": False})):
        assert create_database(cluster=cluster, name=f"fits-{index}", team=None, actor="t", spec=fits).created
    settings.CONTROLPLANE_LOCAL_PORTS = {**settings.CONTROLPLANE_LOCAL_PORTS, "sentinel": (26990, 26995)}
    assert create_database(cluster=cluster, name="secure", team=None, actor="t", spec=spec).created


def test_the_tls_sentinel_room_counts_only_free_ports():
    from localtarget.driver import tls_sentinel_room_problem

    assert tls_sentinel_room_problem(3, range(26400, 26406), []) == ""
    assert "only 4 ports" in tls_sentinel_room_problem(3, range(26400, 26406), [26400, 26401, 12000])
    assert "only 0 ports" in tls_sentinel_room_problem(1, range(26400, 26401), [26400])
