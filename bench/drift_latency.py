"""Benchmark: time from an out-of-band change to its correction with the watcher, and the watcher's idle cost.

Reconciles `--databases` databases on `--clusters` clusters into the API server emulator (a separate
process, so its CPU is not counted), starts the watcher (kube/crsync/watch.py) in this process with
in-process reconciles, then prints:
- the CPU this process uses over `--idle-seconds` with nothing changing (watches open, bookmarks
  arriving every second: the emulator sends them 60 times more often than a real API server);
- for `--rounds` changes each: scaling a database's StatefulSet to 0, deleting a database's Service,
  the time until the control plane has put it back (without the watcher: the next periodic pass,
  up to CONTROLPLANE_RESYNC_SECONDS = 30 s later).

    .venv/bin/python bench/drift_latency.py [--clusters 10] [--databases 1000] [--idle-seconds 20]

Uses a throwaway SQLite database and redis-server; touches nothing else.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, setup_django  # bench/ is on sys.path when run as a script


def serve_emulator(kubeconfig: str) -> None:
    """The emulator process: serves until killed. The simulated controller (pods for every StatefulSet)
    steps when asked (SIGUSR1), not on a timer: a step over 1,000 StatefulSets takes seconds under the
    store's lock, and the idle measurement must see an idle API server."""
    import signal

    from tests.kube.emulator import KubernetesApiEmulator, SimulatedController

    emulator = KubernetesApiEmulator()
    emulator.start()
    controller = SimulatedController(emulator.store)
    asked = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: asked.set())
    Path(kubeconfig).write_text(emulator.kubeconfig())
    steps = 0
    while True:
        asked.wait()
        asked.clear()
        controller.step()
        steps += 1
        Path(f"{kubeconfig}.steps").write_text(str(steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--databases", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve-emulator", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_emulator:
        serve_emulator(args.serve_emulator)
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-drift-"))
    kubeconfig = workdir / "kubeconfig"
    emulator = subprocess.Popen([sys.executable, __file__, "--serve-emulator", str(kubeconfig)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not kubeconfig.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        from tests.servers import redis_server

        with redis_server() as redis_url:
            setup_django(workdir, redis_url)
            run(kubeconfig.read_text(), args, lambda n: _step(emulator, kubeconfig, n))
    finally:
        emulator.terminate()
        emulator.wait(10)


def _step(emulator: subprocess.Popen, kubeconfig: Path, number: int) -> None:
    """Ask the emulator process for controller step `number` and wait until it is done."""
    import signal

    emulator.send_signal(signal.SIGUSR1)
    done = Path(f"{kubeconfig}.steps")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not (done.exists() and done.read_text() == str(number)):
        time.sleep(0.2)


def run(kubeconfig: str, args, step) -> None:
    from django.conf import settings

    from clusters.services import create_cluster
    from core.drivers import driver_for
    from databases.services import create_database
    from engine.sweep import reconcile_everything
    from kube.crsync.watch import TargetWatcher
    from targets.models import Target

    target = Target.objects.create(name="bench", kind=Target.KUBERNETES,
                                   settings={"kubeconfig": kubeconfig, "request_timeout": 30})
    api = driver_for(target).api
    assert driver_for(target).install_definitions() == []
    per_cluster = max(1, args.databases // args.clusters)
    clusters = [create_cluster(name=f"rec{i}", namespace=f"ns{i}", target=target, actor="bench",
                               spec={"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"memory": "64Gi"}}}).obj
                for i in range(args.clusters)]
    databases = [create_database(cluster=cluster, name=f"db{j}", team=None, actor="bench",
                                 spec={"memorySize": "100MB"}).obj
                 for cluster in clusters for j in range(per_cluster)]
    started = time.monotonic()
    for number in (1, 2):  # create; the controller makes pods; clusters run; databases applied; their pods
        reconcile_everything()
        step(number)
    reconcile_everything()
    from databases.models import Database

    states: dict[str, int] = {}
    for state in Database.objects.values_list("status__state", flat=True):
        states[state] = states.get(state, 0) + 1
    print(f"{len(clusters)} clusters and {len(databases)} databases reconciled (custom resources written) in "
          f"{time.monotonic() - started:.0f} s; database states {states}")

    settings.CONTROLPLANE_RECONCILE_MODE = "inline"
    started = time.monotonic()
    watcher = TargetWatcher(target).start()
    assert watcher.wait_ready(300), "the watcher did not list every kind"
    print(f"watcher listed {len(watcher.watches)} kinds in {time.monotonic() - started:.1f} s")
    time.sleep(3)  # let the first burst (pod status changes) pass

    cpu, wall = time.process_time(), time.monotonic()
    threading.Event().wait(args.idle_seconds)
    used, elapsed = time.process_time() - cpu, time.monotonic() - wall
    print(f"idle with {len(databases)} databases: {used:.2f} s CPU in {elapsed:.0f} s = {100 * used / elapsed:.1f} % "
          f"of one core (watches of {len(watcher.watches)} kinds, bookmarks every second)")

    rng = random.Random(1)
    scaled, deleted = [], []
    for _ in range(args.rounds):
        database = rng.choice(databases)
        namespace = database.cluster.namespace
        wanted = api.get("StatefulSet", namespace, database.name)["spec"]["replicas"]
        started = time.monotonic()
        api.merge_patch("StatefulSet", namespace, database.name, {"spec": {"replicas": 0}})
        scaled.append(_until(lambda d=database, n=namespace, w=wanted:
                             api.get("StatefulSet", n, d.name)["spec"]["replicas"] == w, started))
        database = rng.choice(databases)
        namespace = database.cluster.namespace
        started = time.monotonic()
        api.delete("Service", namespace, database.name)
        deleted.append(_until(lambda d=database, n=namespace: api.get("Service", n, d.name) is not None, started))
    watcher.close(timeout=5)
    for label, times in (("scaled StatefulSet put back", scaled), ("deleted Service put back", deleted)):
        print(f"{label}: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} changes "
              f"(periodic pass alone: up to {os.environ.get('CONTROLPLANE_RESYNC_SECONDS', '30')} s)")


def _until(check, started: float, timeout: float = 60.0) -> float:
    while not check():
        if time.monotonic() - started > timeout:
            return float("inf")
        time.sleep(0.02)
    return time.monotonic() - started


if __name__ == "__main__":
    main()
