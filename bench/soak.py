"""Soak: bounded create/update/delete churn with periodic master kills, then the books are checked.

Against a running control plane on the local target (`make run` or `make run-prod`):

    .venv/bin/python bench/soak.py --url http://127.0.0.1:8000 [--env-file var/prod.env] [--minutes 20]

- churn: bench/load.py's clients (create, read, PATCH with If-Match, delete) in rounds;
- data: a writer keeps SETting keys on a replicated database; a key counts as acknowledged when
  `WAIT 1` confirmed a replica has it; every `--kill-every` seconds the database's master is SIGKILLed
  (the sentinels fail it over); at the end every acknowledged key must read back;
- at the end it deletes what it created and checks: every database converged, no redis/haproxy
  process left that the local target does not account for, and the memory (RSS) of every
  control-plane process (web workers, Celery worker and beat) compared with the first minute.

With `--target NAME` of a Kubernetes target the cluster is placed there: the data part (writer, master
kills) is skipped (the pods' endpoints are not reachable from here), and the orphan check lists, through
the target's API server, every object the control plane labelled for a database of the soak's cluster:
once everything is deleted there must be none (`orphan_objects=0`).

Prints one summary line starting with SOAK; exit code 0 when every check holds.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import sys
import time
from pathlib import Path

import aiohttp
import redis
from load import Client, Ledger, Stats, client_loop, converged, ensure_cluster, manage, set_up_user, stack_env

CONTROL_PLANE_MARKERS = (b"controlplane.asgi", b"celery\x00-A\x00controlplane")
MEMORY_GROWTH_LIMIT = 1.3  # RSS at the end / RSS after warm-up, per process


def control_plane_rss(var_dir: Path) -> dict[int, int]:
    """pid -> RSS in KiB of every web worker, Celery worker/pool process and beat of the stack whose var dir
    is `var_dir` (their environment names it; other stacks on the machine are not counted)."""
    rss = {}
    marker_env = f"CONTROLPLANE_VAR_DIR={var_dir}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes()
            if any(marker in cmdline for marker in CONTROL_PLANE_MARKERS) and \
                    marker_env in (proc / "environ").read_bytes().split(b"\0"):
                match = re.search(r"VmRSS:\s+(\d+)", (proc / "status").read_text())
                if match:
                    rss[int(proc.name)] = int(match.group(1))
    return rss


def owned_processes(var_dir: Path) -> set[int]:
    """redis/haproxy processes of this control plane: working directory or command line under var_dir."""
    root = str(var_dir.resolve())
    pids = set()
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if not proc.name.isdigit():
                continue
            name = (proc / "comm").read_text().strip()
            if not (name.startswith("redis-") or name == "haproxy"):
                continue
            if os.readlink(proc / "cwd").startswith(root) or root.encode() in (proc / "cmdline").read_bytes():
                pids.add(int(proc.name))
    return pids


# Printed by `manage.py shell`: objects labelled for a database of cluster SOAK_CLUSTER on its Kubernetes target.
KUBE_LEFTOVERS = """
from clusters.models import Cluster
from kube.client import KubeApi, build_api_client
from kube.live import DATABASE_KINDS, MANAGED_SELECTOR
from kube.podspec import CLUSTER_LABEL, DATABASE_LABEL
cluster = Cluster.objects.select_related("target").get(name=SOAK_CLUSTER)
api = KubeApi(build_api_client(cluster.target.connection_settings()))
selector = {**MANAGED_SELECTOR, CLUSTER_LABEL: cluster.name}
for kind in DATABASE_KINDS:
    for obj in api.list(kind, cluster.namespace, selector):
        if (obj["metadata"].get("labels") or {}).get(DATABASE_LABEL):
            print("LEFT", kind, obj["metadata"]["name"])
"""


def kube_leftovers(env: dict[str, str], cluster: str) -> list[str]:
    """`kind/name` of every database object still on the cluster's Kubernetes target."""
    out = manage(env, "shell", "-c", KUBE_LEFTOVERS.replace("SOAK_CLUSTER", repr(cluster)))
    return ["/".join(line.split()[1:3]) for line in out.splitlines() if line.startswith("LEFT ")]


class Writer:
    """Writes keys through the database's endpoint; remembers those a replica acknowledged."""

    def __init__(self, host: str, port: int, password: str):
        self.client = redis.Redis(host=host, port=port, password=password, socket_timeout=2,
                                  socket_connect_timeout=2)
        self.acknowledged: list[str] = []
        self.failed = 0
        self.serial = 0

    def write_some(self, count: int) -> None:
        for _ in range(count):
            self.serial += 1
            key = f"soak:{self.serial}"
            try:
                # SET and WAIT in one pipeline: redis-py retries a lone WAIT on a new connection after a
                # connection error, where it would count replicas for a write that connection never made.
                _, replicas = self.client.pipeline(transaction=False).set(key, str(self.serial)) \
                    .execute_command("WAIT", 1, 200).execute()
                if replicas >= 1:
                    self.acknowledged.append(key)
            except redis.RedisError:
                self.failed += 1  # during a failover: not acknowledged, so not promised

    def kill_master(self) -> bool:
        try:
            pid = int(self.client.info("server")["process_id"])
        except redis.RedisError:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            return True
        return False

    def lost(self) -> list[str]:
        lost = []
        for start in range(0, len(self.acknowledged), 500):
            keys = self.acknowledged[start:start + 500]
            for _attempt in range(30):
                try:
                    values = self.client.mget(keys)
                    break
                except redis.RedisError:
                    time.sleep(1)
            else:
                return keys
            lost += [key for key, value in zip(keys, values, strict=True) if value is None]
        return lost


async def wait_state(client: Client, path: str, state: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, data = await client.call("setup", "GET", path, expect=(200,))
        if data and data["status"].get("state") == state:
            return data
        await asyncio.sleep(1)
    raise SystemExit(f"{path} did not reach {state} within {timeout:.0f}s")


async def soak(args) -> int:
    env = stack_env(args.env_file)
    var_dir = Path(args.var_dir or env.get("CONTROLPLANE_VAR_DIR") or Path(__file__).resolve().parents[1] / "var")
    token, _ = set_up_user(env)
    stats, ledger = Stats(), Ledger()
    rng = random.Random(args.seed)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        api = Client(session, args.url, token, stats)
        await ensure_cluster(api, args.cluster, args.target, 180)
        _, cluster = await api.call("setup", "GET", f"clusters/{args.cluster}/", expect=(200,))
        _, target = await api.call("setup", "GET", f"targets/{cluster['target']}/", expect=(200,))
        kube = target["kind"] == "kubernetes"
        processes_before = owned_processes(var_dir)
        base = f"clusters/{args.cluster}/databases/"
        target_db = f"soak-data-{rng.randrange(10**6)}"
        writer = None
        if not kube:
            await api.call("setup", "POST", base, {"name": target_db, "spec": {"memorySize": "100MB",
                                                                              "replication": True}}, expect=(201,))
            await wait_state(api, base + target_db + "/", "active", 180)
            _, credentials = await api.call("setup", "POST", base + target_db + "/credentials/", expect=(200,))
            writer = Writer(credentials["host"], credentials["port"], credentials["password"])
        started = time.monotonic()
        end = started + args.minutes * 60
        rss_start: dict[int, int] = {}
        kills = 0
        next_kill = started + args.kill_every
        round_number = 0
        while time.monotonic() < end:
            round_number += 1
            round_end = min(end, time.monotonic() + 20)
            churn = asyncio.gather(*(client_loop(1000 * round_number + i, Client(session, args.url, token, stats),
                                                 args.cluster, ledger, ledger.created + args.creates_per_round,
                                                 round_end, random.Random(rng.random()))
                                     for i in range(args.clients)))
            while time.monotonic() < round_end:
                if writer is None:
                    await asyncio.sleep(1)
                    continue
                await asyncio.to_thread(writer.write_some, 50)
                if time.monotonic() >= next_kill:
                    kills += int(await asyncio.to_thread(writer.kill_master))
                    next_kill = time.monotonic() + args.kill_every
                await asyncio.sleep(0.2)
            await churn
            if not rss_start and time.monotonic() - started >= min(60, args.minutes * 30):
                rss_start = control_plane_rss(var_dir)
        rss_end = control_plane_rss(var_dir)
        lost = await asyncio.to_thread(writer.lost) if writer else []
        # Clean up: delete everything the run left, then every database must be gone.
        for name in list(ledger.live):
            await api.call("cleanup", "DELETE", base + name + "/", expect=(200, 202, 204))
            ledger.live.pop(name)
            ledger.deleted.add(name)
        if writer:
            await api.call("cleanup", "DELETE", base + target_db + "/", expect=(200, 202, 204))
            ledger.deleted.add(target_db)
        done, total, stuck = await converged(api, args.cluster, ledger, args.converge_timeout)
    await asyncio.sleep(3)
    leaked = [] if kube else sorted(owned_processes(var_dir) - processes_before)
    left_objects = kube_leftovers(env, args.cluster) if kube else []
    for name in left_objects[:10]:
        print(f"  left on the target: {name}")
    growth = {pid: rss_end[pid] / rss_start[pid] for pid in rss_start if pid in rss_end}
    worst = max(growth.values(), default=1.0)
    errors = sum(stats.errors.values())
    ok = not lost and not leaked and not left_objects and done == total and errors == 0 and worst <= MEMORY_GROWTH_LIMIT
    for sample in stats.error_samples:
        print(f"  error: {sample}")
    if stuck:
        print(f"  not converged: {', '.join(stuck)}")
    print(f"SOAK minutes={args.minutes:g} requests={sum(len(v) for v in stats.latencies.values())} errors={errors} "
          f"conflicts={stats.conflicts} databases_created={ledger.created} converged={done}/{total} "
          f"master_kills={kills} acknowledged_writes={len(writer.acknowledged) if writer else '-'} "
          f"lost_writes={len(lost)} unacknowledged_failed={writer.failed if writer else '-'} "
          f"orphan_processes={'-' if kube else len(leaked)} orphan_objects={len(left_objects) if kube else '-'} "
          f"processes_compared={len(growth)} worst_rss_growth={worst:.2f} result={'PASS' if ok else 'FAIL'}",
          flush=True)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--env-file", help="environment of the stack for manage.py (make run-prod: var/prod.env)")
    parser.add_argument("--var-dir", help="the control plane's var dir (default: from the env file, else var/)")
    parser.add_argument("--cluster", default="soak")
    parser.add_argument("--target", help="target of the cluster when it is created (a Kubernetes target: no data "
                                         "part, the target's objects are checked for orphans)")
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--creates-per-round", type=int, default=3, help="databases created per 20 s round")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds between master kills")
    parser.add_argument("--converge-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 0.5 <= args.minutes <= 24 * 60 or not 1 <= args.clients <= 200 or not 5 <= args.kill_every <= 3600:
        parser.error("--minutes 0.5-1440, --clients 1-200, --kill-every 5-3600")
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
