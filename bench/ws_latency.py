"""Status latency of the dashboard: from the database commit of a status change to its arrival at N
connected websocket clients (N = 1, 100, 1000 by default). Prints p50/p99 per N.

The whole real path runs: Daphne (ASGI, subprocess) with the Channels consumers, a real Redis as the
channel layer, SQLite on disk, and the reconciler's own `write_status` (status UPDATE + event + publish
after commit) called from this process. Clients are logged-in websocket connections to the same
database page (`/ws/database/<id>/`), so every status change fans out to all N.

    .venv/bin/python bench/ws_latency.py [--clients 1 100 1000] [--rounds 30]

The commit time is taken in an on_commit hook that runs just before the publish; arrival is when a
client's receive loop decodes the message. Clients share one asyncio process, so the figures include
their own decoding time (1000 JSON messages per change on the same two cores as the server).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def start_stack(root: Path):
    from tests.browser.stack import LiveStack

    stack = LiveStack(root).start()
    os.environ.update({key: stack.env[key] for key in (
        "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CONTROLPLANE_VAR_DIR", "CONTROLPLANE_RECONCILE_MODE")})
    import django

    django.setup()
    return stack


def make_objects():
    """A cluster, a database and the staff session the clients log in with (rows only: no processes)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import Team
    from clusters.models import Cluster
    from databases.models import Database
    from targets.models import Target

    cluster = Cluster.objects.create(name="bench", namespace="bench", target=Target.default(), spec={"nodes": 3})
    database = Database.objects.create(name="cache", cluster=cluster, team=Team.objects.get(name="payments"),
                                       spec={"memorySize": "100MB", "databasePort": 12950})
    user = get_user_model().objects.get(username="ops")
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return database, session.session_key


class Publisher:
    """Writes status changes the way the reconciler does, from a thread (the ORM is synchronous)."""

    def __init__(self, database):
        self.database = database
        self.committed: dict[int, float] = {}

    def change(self, seq: int) -> None:
        from django.db import transaction

        from targets import managed
        from targets.drivers import Observation
        from targets.reconcile import write_status

        with transaction.atomic():
            # Registered before write_status registers its publish, so it runs first at commit.
            transaction.on_commit(lambda: self.committed.__setitem__(seq, time.perf_counter()))
            write_status(self.database, Observation(state=managed.DB_ACTIVE, details={"benchSeq": seq}),
                         self.database.generation)


async def run_clients(url: str, session_key: str, database_pk: int, count: int, rounds: int,
                      publisher: Publisher, first_seq: int = 0) -> list[float]:
    """Connect `count` clients, make `rounds` status changes, return every (change, client) latency in ms.

    Sequence numbers start at `first_seq`, so a late message of an earlier run is never counted."""
    import websockets

    arrivals: dict[int, list[float]] = {}
    everyone_got: dict[int, asyncio.Event] = {}

    async def client(socket) -> None:
        async for raw in socket:
            message = json.loads(raw)
            seq = (message.get("object") or {}).get("status", {}).get("benchSeq")
            if message.get("type") == "object.changed" and seq is not None:
                now = time.perf_counter()
                got = arrivals.setdefault(seq, [])
                got.append(now)
                if len(got) == count:
                    everyone_got[seq].set()

    headers = {"Cookie": f"sessionid={session_key}", "Origin": url}
    sockets = []
    for start in range(0, count, 100):  # connect in batches so the listen backlog is never exceeded
        batch = await asyncio.gather(*(websockets.connect(
            url.replace("http", "ws") + f"/ws/database/{database_pk}/", additional_headers=headers,
            max_queue=None, open_timeout=60) for _ in range(start, min(count, start + 100))))
        sockets += batch
    for socket in sockets:
        hello = json.loads(await socket.recv())
        assert hello["type"] == "subscribed", hello
    readers = [asyncio.create_task(client(socket)) for socket in sockets]

    latencies: list[float] = []
    lost = 0
    loop = asyncio.get_running_loop()
    for seq in range(first_seq, first_seq + rounds):
        everyone_got[seq] = asyncio.Event()
        await loop.run_in_executor(None, publisher.change, seq)
        try:
            await asyncio.wait_for(everyone_got[seq].wait(), timeout=10)
        except TimeoutError:
            pass
        got = arrivals.get(seq, [])
        lost += count - len(got)
        if len(got) < count:
            closed = sum(1 for socket in sockets if socket.close_code is not None)
            codes = {(s.close_code, s.close_reason) for s in sockets if s.close_code is not None}
            print(f"  round {seq - first_seq}: {len(got)}/{count} arrived; {closed} socket(s) closed {codes}")
        latencies += [(arrival - publisher.committed[seq]) * 1000 for arrival in got]
        await asyncio.sleep(0.05)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    if lost:
        print(f"  !! {lost} message(s) did not arrive within 10 s")
    return latencies


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the stack is stopped on `kill`
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--rounds", type=int, default=30, help="status changes per N")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))

    with tempfile.TemporaryDirectory(prefix="cp-bench-ws-") as tmp:
        stack = start_stack(Path(tmp))
        try:
            database, session_key = make_objects()
            publisher = Publisher(database)
            # A short warm-up so connection pools and imports are not in the first figures.
            asyncio.run(run_clients(stack.url, session_key, database.pk, 1, 5, publisher))
            print(f"status latency, DB commit -> websocket client (ms), {args.rounds} changes per N, "
                  f"{os.cpu_count()} CPUs")
            print(f"{'clients':>8} {'samples':>8} {'p50':>8} {'p99':>8} {'max':>8} {'mean':>8}")
            for count in args.clients:
                publisher.committed.clear()
                started = time.perf_counter()
                latencies = asyncio.run(run_clients(stack.url, session_key, database.pk, count, args.rounds,
                                                    publisher, first_seq=1_000_000 * count))
                print(f"{count:>8} {len(latencies):>8} {percentile(latencies, .5):>8.1f} "
                      f"{percentile(latencies, .99):>8.1f} {max(latencies):>8.1f} "
                      f"{statistics.fmean(latencies):>8.1f}   ({time.perf_counter() - started:.0f}s)")
        finally:
            if os.environ.get("BENCH_SHOW_LOG"):
                print("\n".join(line for line in stack.web_log().splitlines()
                                if "WSCONNECT" not in line and "WSDISCONNECT" not in line)[-8000:])
            stack.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
