"""Adoption, restarts, replication on/off, rolling upgrades and deletion on real processes."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core import drivers
from localtarget import processes
from localtarget.layout import Process
from tests.servers import free_port
from timeline.models import Event

from .conftest import settle
from .helpers import direct, endpoint, endpoint_port, kill9, master_name, wait_until


def reasons(obj) -> set[str]:
    return set(Event.objects.filter(object_kind=obj.kind, object_id=obj.pk).values_list("reason", flat=True))


def test_a_restarted_control_plane_adopts_running_processes(make_database):
    database = make_database(replication=True)
    before = {name: direct(database, name).info("server")["run_id"] for name in database.status["processes"]}
    drivers._instances.clear()  # a fresh driver, as in a new worker process

    assert settle(database).state == "active"
    after = {name: direct(database, name).info("server")["run_id"] for name in database.status["processes"]}
    assert after == before
    assert "ProcessRestarted" not in reasons(database)


def test_a_dead_process_is_restarted_by_the_next_reconcile_with_an_event(make_database):
    database = make_database(persistence="aofEverySecond")
    endpoint(database).set("kept", "1")
    time.sleep(1.2)  # let appendfsync everysec reach the disk
    kill9(direct(database, "shard-0-0"))

    assert settle(database).state == "active"
    assert endpoint(database).get("kept") == "1"
    assert "ProcessRestarted" in reasons(database)


def test_replication_on_adds_a_synced_replica_and_off_removes_it(make_database):
    from databases.services import update_database

    database = make_database()
    endpoint(database).set("a", "1")
    update_database(database, spec={**database.spec, "replication": True}, actor="test")
    assert settle(database).state == "active", database.status
    assert direct(database, "shard-0-1").get("a") == "1"
    assert endpoint(database).wait(1, 1000) == 1

    # make the replica the master, then turn replication off: the data must stay on the process that remains
    kill9(direct(database, master_name(database)))
    assert settle(database).state == "active" and master_name(database) == "shard-0-1"
    update_database(database, spec={**database.spec, "replication": False}, actor="test")
    assert settle(database).state == "active"
    assert list(database.status["processes"]) == ["shard-0-0"]
    assert endpoint(database).get("a") == "1"


def test_rolling_upgrade_with_a_retrying_client_sees_no_failed_command(make_database):
    from databases.services import upgrade_database

    database = make_database(replication=True, redisVersion="7.0")
    errors, done, count, retries = [], threading.Event(), [0], [0]

    def writer():
        client = endpoint(database, retry=Retry(NoBackoff(), 0))  # every retry is this loop's, and counted
        while not done.is_set():
            for _attempt in range(100):
                try:
                    client.incr("counter")
                    count[0] += 1
                    break
                except redis.ConnectionError:  # a client that retries on connection errors
                    retries[0] += 1
                    time.sleep(0.05)
                except redis.RedisError as exc:
                    errors.append(repr(exc))
                    break

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        upgrade_database(database, version="7.2", actor="test")
        assert settle(database, timeout=120).state == "active"
        time.sleep(0.3)
    finally:
        done.set()
        thread.join(10)
    assert errors == []
    # no acknowledged write lost; a retried INCR whose connection was cut after it ran counts twice
    assert count[0] > 0 and count[0] <= int(endpoint(database).get("counter")) <= count[0] + retries[0]
    assert {p["version"] for p in database.status["processes"].values()} == {"7.2"}
    assert {"UpgradeStep", "Switchover"} <= reasons(database)


def test_an_unknown_version_is_refused_with_the_versions_this_machine_has(make_database):
    from core.errors import SpecError
    from databases.services import upgrade_database

    database = make_database()
    with pytest.raises(SpecError) as refused:
        upgrade_database(database, version="9.9", actor="test")
    message = " ".join(m for msgs in refused.value.errors.values() for m in msgs)
    assert "7.0" in message and "7.2" in message


def test_delete_stops_processes_and_endpoint_and_keeps_data(make_database, tmp_path):
    from databases.services import delete_database

    database = make_database(persistence="aofAlways")
    port = endpoint_port(database)
    endpoint(database).set("k", "v")
    delete_database(database, actor="test")
    outcome = settle_gone(database)
    assert outcome.gone
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=port, socket_connect_timeout=1).ping()
    assert any(p.stat().st_size for p in tmp_path.rglob("appendonly.aof*") if p.is_file())


def test_delete_with_delete_data_removes_files(make_database, tmp_path):
    from databases.services import delete_database

    database = make_database(persistence="aofAlways")
    delete_database(database, actor="test", delete_data=True)
    assert settle_gone(database).gone
    assert not list(tmp_path.rglob("shard-0-0"))


def settle_gone(database):
    from engine.reconcile import reconcile_until_settled

    return reconcile_until_settled("database", database.pk, timeout=30, interval=0.2)


def test_deleting_a_cluster_stops_its_quorum(make_cluster):
    from clusters.services import delete_cluster
    from engine.reconcile import reconcile_until_settled

    cluster = make_cluster()
    ports = list(cluster.status["quorumMembers"].values())
    assert all(redis.Redis(port=p, password=cluster.admin_password, socket_connect_timeout=1).ping() for p in ports)
    delete_cluster(cluster, actor="test")
    assert reconcile_until_settled("cluster", cluster.pk, timeout=30, interval=0.2).gone
    for port in ports:
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=port, socket_connect_timeout=1, retry=None).ping()


def test_recover_names_an_unknown_cluster_clearly(local_target):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match='no cluster named "nope"'):
        call_command("recover", "nope")


def test_out_of_band_changes_are_put_back(make_database, tmp_path):
    import os
    import signal

    database = make_database()
    direct(database, "shard-0-0").config_set("maxmemory", "12345678")
    haproxy_pid = int(next(tmp_path.rglob("haproxy.pid")).read_text().split()[0])
    os.kill(haproxy_pid, signal.SIGKILL)

    assert settle(database).state == "active"
    assert direct(database, "shard-0-0").config_get("maxmemory")["maxmemory"] == str(100 * 1024**2)
    assert endpoint(database).ping()
    assert {"ConfigApplied", "EndpointRestarted"} <= reasons(database)


def test_a_stale_pid_file_naming_another_redis_does_not_count_as_running(make_database, tmp_path):
    """After a reboot, pids are reused: a pid file may name an unrelated redis process."""
    import subprocess

    database = make_database(persistence="aofAlways")
    endpoint(database).set("k", "v")
    pid_file = next(tmp_path.rglob("shard-0-0/redis.pid"))
    kill9(direct(database, "shard-0-0"))
    stranger = subprocess.Popen(["redis-server", "--port", "0", "--save", "", "--unixsocket",
                                 str(tmp_path / "stranger.sock")], stdout=subprocess.DEVNULL)
    try:
        pid_file.write_text(f"{stranger.pid}\n")
        assert settle(database).state == "active"
        assert endpoint(database).get("k") == "v"
        assert stranger.poll() is None  # left alone
    finally:
        stranger.kill()
        stranger.wait()


def test_the_quorum_upgrades_one_member_at_a_time(make_cluster):
    from clusters.services import upgrade_cluster
    from core.drivers import driver_for

    cluster = make_cluster(redisEnterpriseImageSpec={"versionTag": "7.0"})
    upgrade_cluster(cluster, version="7.2", actor="test")
    assert settle(cluster).state == "Running"
    members = driver_for(cluster.target).sentinels(cluster)
    assert {processes.read_state(m)["version"] for m in members} == {"7.2"}
    assert [e for e in reasons(cluster) if e == "UpgradeStep"]


def test_a_port_taken_by_another_program_is_replaced(make_database):
    import socket

    database = make_database(persistence="aofAlways")
    endpoint(database).set("k", "v")
    old_port = database.status["processes"]["shard-0-0"]["port"]
    kill9(direct(database, "shard-0-0"))
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    assert wait_until(lambda: _bind(squatter, old_port), timeout=5), "the killed process's port never freed"
    squatter.listen()
    try:
        assert settle(database).state == "active"
        assert database.status["processes"]["shard-0-0"]["port"] != old_port
        assert endpoint(database).get("k") == "v"
    finally:
        squatter.close()


def _bind(sock, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


def test_a_redis_writing_its_first_aof_file_is_stopped_cleanly_not_killed(tmp_path):
    """Redis refuses a SIGTERM that arrives while it writes its first AOF file (as a replica does right after
    its full sync, when a rolling upgrade stops it): `stop` asks again and the process shuts down by itself,
    instead of waiting out its timeout (10 s) and sending SIGKILL."""
    port = free_port()
    process = Process(name="solo", port=port, directory=tmp_path, program="redis")
    processes.write_config(process, "\n".join([
        f"port {port}", "bind 127.0.0.1", "daemonize yes", f'pidfile "{process.pid_file}"',
        f'logfile "{process.log_file}"', f'dir "{tmp_path}"', 'save ""', "appendonly no", ""]))
    processes.start(process, Path(shutil.which("redis-server")))
    client = redis.Redis(port=port)
    client.mset({f"k{i}": i for i in range(200)})
    client.config_set("rdb-key-save-delay", 10_000)  # 10 ms a key: the first AOF file takes about 2 s
    client.config_set("appendonly", "yes")
    assert processes.stop(process)
    log = process.log_file.read_text()
    assert "Writing initial AOF, can't exit" in log  # the first SIGTERM came while it was written
    assert "ready to exit, bye bye" in log  # a later one stopped it: no SIGKILL
    assert processes.running_pid(process) is None
