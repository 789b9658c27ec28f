"""The control plane restarted in the middle of a local resharding: its Celery worker and beat are SIGKILLed
while slots are open (MIGRATING/IMPORTING), a second reshard is refused meanwhile, and they are started again.
The new processes find the half-done reshard from what the shards say, finish it by themselves (beat's
resync, no manual reconcile), and every key a writer had acknowledged, before and during the move, reads back."""
from __future__ import annotations

import subprocess
import sys

from redis.cluster import RedisCluster

from tests.browser.stack import BASE_DIR, wait_until
from tests.local.test_resharding import (
    KEYS,
    REC,
    REDB,
    Stack,
    Writer,
    cluster_check,
    open_slot_count,
    write_keys,
    wrong_keys,
)

from .test_process_faults import Celery


def test_a_control_plane_restarted_mid_reshard_finishes_it_and_loses_no_key(tmp_path):
    live = Stack(tmp_path, CONTROLPLANE_RECONCILE_MODE="celery", CONTROLPLANE_RESYNC_SECONDS="2",
                 CP_LOCK_TTL_SECONDS="5")
    control_plane = [Celery(tmp_path, {}, "worker", "--concurrency", "1", "-l", "warning"),
                     Celery(tmp_path, {}, "beat", "-l", "warning", "--schedule", str(tmp_path / "beat-schedule"))]
    try:
        live.start()
        for process in control_plane:
            process.env = live.env
            process.start()
        (tmp_path / "rec.yaml").write_text(REC)
        (tmp_path / "shop.yaml").write_text(REDB % 2)
        live.manage("apply", "-f", str(tmp_path / "rec.yaml"))
        live.manage("apply", "-f", str(tmp_path / "shop.yaml"), "--team", "payments")
        assert wait_until(lambda: live.status("shop").get("state") == "active", timeout=120, interval=0.5)
        status = live.status("shop")
        password = live.manage("shell", "-c", "from databases.models import Database; "
                                              "print(Database.objects.get(name='shop').password)").split()[-1]
        port = int(status["endpoint"].rsplit(":", 1)[1])
        masters = [status["processes"][name]["port"] for name in status["shardMasters"]]
        expected = write_keys(RedisCluster(host="127.0.0.1", port=port, password=password, decode_responses=True),
                              KEYS)
        writer = Writer(port, password, KEYS)
        writer.start()

        (tmp_path / "shop.yaml").write_text(REDB % 4)
        live.manage("apply", "-f", str(tmp_path / "shop.yaml"))
        assert wait_until(lambda: open_slot_count(masters, password) > 0, timeout=90, interval=0.01), \
            "the reshard never began (or finished between two looks)"
        for process in control_plane:  # the restart: no cleanup, the reconcile lock is left to expire
            process.kill()
        left_open = open_slot_count(masters, password)
        progress = live.status("shop").get("resharding", {})
        assert progress.get("shards") == 4 and progress["slotsMoved"] < progress["slotsTotal"] == 8192, progress
        # A second reshard is refused while this one is unfinished (and changes nothing).
        (tmp_path / "again.yaml").write_text(REDB % 3)
        refused = subprocess.run([sys.executable, "manage.py", "apply", "-f", str(tmp_path / "again.yaml")],
                                 cwd=BASE_DIR, env=live.env, capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "is still running" in refused.stdout + refused.stderr, refused
        for process in control_plane:
            process.start()

        def finished() -> bool:
            now = live.status("shop")
            return now.get("state") == "active" and len(now.get("shardMasters", [])) == 4 and "resharding" not in now

        assert wait_until(finished, timeout=120, interval=0.5), live.status("shop")
        expected.update(writer.finish())
        client = RedisCluster(host="127.0.0.1", port=port, password=password, decode_responses=True)
        assert wrong_keys(client, expected) == []
        cluster_check(port, password)
        assert open_slot_count([p["port"] for p in live.status("shop")["processes"].values()], password) == 0
        reasons = [row[0] for row in live.query("SELECT reason FROM timeline_event WHERE object_name = 'shop'")]
        assert "Resharded" in reasons and ("ReshardResumed" in reasons or not left_open), (left_open, reasons)
    finally:
        for process in control_plane:
            process.kill()
        live.close()
