"""The reconcile lock: short-lived, renewed while its holder works, free within one TTL after its holder dies."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.locks import LockBusy, object_lock, redis_client

ROOT = Path(__file__).resolve().parents[1]
TTL = 3.0  # seconds; the shipped default is settings.CONTROLPLANE_LOCK_TTL (30)

HOLDER = """
import django, sys, time
django.setup()
from django.conf import settings
settings.REDIS_URL = sys.argv[1]
from core.locks import object_lock
with object_lock("database", 4242, wait=0, ttl=float(sys.argv[2])):
    print("held", flush=True)
    time.sleep(3600)
"""


def test_the_shipped_lock_ttl_is_short(settings):
    assert settings.CONTROLPLANE_LOCK_TTL <= 60


def test_a_dead_workers_lock_frees_within_one_ttl(controlplane_redis):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "controlplane.settings"}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, controlplane_redis, str(TTL)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy):
            with object_lock("database", 4242, wait=0, ttl=TTL):
                pass
        holder.send_signal(signal.SIGKILL)  # a worker killed mid-reconcile never releases its lock
        holder.wait(timeout=10)
        remaining = redis_client().pttl("controlplane:reconcile:database:4242") / 1000
        assert 0 < remaining <= TTL
        with object_lock("database", 4242, wait=TTL + 10, ttl=TTL):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_long_reconcile_keeps_its_lock_past_the_ttl(controlplane_redis):
    held, done = threading.Event(), threading.Event()

    def long_reconcile() -> None:
        with object_lock("cluster", 4243, wait=0, ttl=TTL):
            held.set()
            done.wait(timeout=60)

    worker = threading.Thread(target=long_reconcile)
    worker.start()
    try:
        assert held.wait(timeout=10)
        deadline = time.monotonic() + 3 * TTL
        while time.monotonic() < deadline:  # three TTLs: without renewal the lock would have expired
            with pytest.raises(LockBusy):
                with object_lock("cluster", 4243, wait=0, ttl=TTL):
                    pass
            time.sleep(0.5)
    finally:
        done.set()
        worker.join(timeout=10)
    with object_lock("cluster", 4243, wait=0, ttl=TTL):  # released at the end
        pass


def test_a_dead_holder_on_this_host_is_taken_over_at_once(controlplane_redis):
    """A worker killed mid-migration: the next reconcile on the same host need not wait out the TTL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "controlplane.settings"}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER.replace("4242", "4244"), controlplane_redis, "600"],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert f":{holder.pid}:" in redis_client().get("controlplane:reconcile:database:4244").decode()
        with pytest.raises(LockBusy):  # alive: busy
            with object_lock("database", 4244, wait=0, ttl=TTL):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert redis_client().pttl("controlplane:reconcile:database:4244") > 60_000  # its TTL has long to run
        with object_lock("database", 4244, wait=0, ttl=TTL):  # dead: taken over without waiting
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
