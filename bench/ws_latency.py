"""Status latency of the dashboard: from the database commit of a status change to its arrival at N
connected websocket clients (N = 1, 100, 1000 by default). Prints p50/p99 per N.

The whole real path runs: Daphne (ASGI, subprocess) with the Channels consumers, a real Redis as the
channel layer, SQLite on disk, and the reconciler's own `write_status` (status UPDATE + event + publish
after commit) called from this process. Clients are logged-in websocket connections to the same
database page (`/ws/database/<id>/`), so every status change fans out to all N.

    .venv/bin/python bench/ws_latency.py [--clients 1 100 1000] [--rounds 30]

The commit time is taken in an on_commit hook that runs just before the publish; arrival is when a
client reads the frame. Clients share one asyncio process on the same cores as the server, so the
figures include reading 1000 frames per change; `--client lean` (a minimal frame reader) keeps that
cost small, `--client websockets` shows it with a full client library.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path; bench/ is on it when run as a script)


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

        from core.drivers import Observation
        from engine.reconcile import write_status
        from targets import managed

        with transaction.atomic():
            # Registered before write_status registers its publish, so it runs first at commit.
            transaction.on_commit(lambda: self.committed.__setitem__(seq, time.perf_counter()))
            write_status(self.database, Observation(state=managed.DB_ACTIVE, details={"benchSeq": seq}),
                         self.database.generation)


class Arrivals:
    """Arrival times per change; wakes the driver when every client has one."""

    def __init__(self, count: int):
        self.count = count
        self.times: dict[int, list[float]] = {}
        self.complete: dict[int, asyncio.Event] = {}

    def expect(self, seq: int) -> asyncio.Event:
        return self.complete.setdefault(seq, asyncio.Event())

    def frame(self, text: str | bytes, now: float) -> None:
        message = json.loads(text)
        if message.get("type") != "object.changed":
            return
        seq = message["object"]["status"].get("benchSeq")
        if seq is None:
            return
        got = self.times.setdefault(seq, [])
        got.append(now)
        if len(got) == self.count:
            self.expect(seq).set()


class LeanSocket(asyncio.Protocol):
    """A minimal websocket client (handshake, unmasked server frames, pong): it costs the measurement
    a few microseconds per frame, where a full client library costs tens."""

    def __init__(self, request: bytes, arrivals: Arrivals):
        self.request, self.arrivals = request, arrivals
        self.buffer = bytearray()
        self.open = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.upgraded = False
        self.subscribed = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.open.set_exception(RuntimeError(bytes(self.buffer[:end]).decode(errors="replace")))
                return
            del self.buffer[:end + 4]
            self.upgraded = True
        while len(self.buffer) >= 2:
            opcode, length, offset = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length == 126:
                length, offset = int.from_bytes(self.buffer[2:4], "big"), 4
            elif length == 127:
                length, offset = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < offset + length:
                return
            payload = bytes(self.buffer[offset:offset + length])
            del self.buffer[:offset + length]
            if opcode == 0x9:  # ping -> pong, masked with a zero key as clients must
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            elif opcode == 0x1 and not self.subscribed:
                self.subscribed = True
                self.open.set_result(True)
            elif opcode == 0x1:
                self.arrivals.frame(payload, now)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.write(bytes([0x88, 0x82]) + b"\0\0\0\0" + (1000).to_bytes(2, "big"))
            self.transport.close()


async def connect_lean(url: str, path: str, session_key: str, count: int, arrivals: Arrivals) -> list:
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    sockets = []
    for _ in range(count):
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {url}\r\n"
                   f"Cookie: sessionid={session_key}\r\n\r\n").encode()
        _, protocol = await loop.create_connection(lambda r=request: LeanSocket(r, arrivals), host, int(port))
        await asyncio.wait_for(protocol.open, timeout=30)
        sockets.append(protocol)
    return sockets


async def connect_library(url: str, path: str, session_key: str, count: int, arrivals: Arrivals) -> list:
    import websockets

    headers = {"Cookie": f"sessionid={session_key}", "Origin": url}
    sockets = []
    for start in range(0, count, 100):  # batches, so the listen backlog is never exceeded
        sockets += await asyncio.gather(*(websockets.connect(
            url.replace("http", "ws") + path, additional_headers=headers, max_queue=None, open_timeout=60)
            for _ in range(start, min(count, start + 100))))
    for socket in sockets:
        assert json.loads(await socket.recv())["type"] == "subscribed"

    async def read(socket) -> None:
        async for text in socket:
            arrivals.frame(text, time.perf_counter())

    readers = [asyncio.create_task(read(socket)) for socket in sockets]

    class Closer:
        def close(self) -> None:
            for reader in readers:
                reader.cancel()
            for socket in sockets:
                asyncio.ensure_future(socket.close())

    return [Closer()]


async def run_clients(url: str, session_key: str, database_pk: int, count: int, rounds: int,
                      publisher: Publisher, first_seq: int = 0, client: str = "lean") -> list[float]:
    """Connect `count` clients, make `rounds` status changes, return every (change, client) latency in ms.

    Sequence numbers start at `first_seq`, so a late message of an earlier run is never counted."""
    arrivals = Arrivals(count)
    connect = connect_lean if client == "lean" else connect_library
    sockets = await connect(url, f"/ws/database/{database_pk}/", session_key, count, arrivals)
    loop = asyncio.get_running_loop()
    for seq in range(first_seq - 3, first_seq):  # warm-up changes with these sockets, not counted
        complete = arrivals.expect(seq)
        await loop.run_in_executor(None, publisher.change, seq)
        await asyncio.wait_for(complete.wait(), timeout=30)
    latencies: list[float] = []
    lost = 0
    for seq in range(first_seq, first_seq + rounds):
        complete = arrivals.expect(seq)
        await loop.run_in_executor(None, publisher.change, seq)
        try:
            await asyncio.wait_for(complete.wait(), timeout=10)
        except TimeoutError:
            pass
        got = arrivals.times.get(seq, [])
        lost += count - len(got)
        latencies += [(arrival - publisher.committed[seq]) * 1000 for arrival in got]
        await asyncio.sleep(0.05)
    for socket in sockets:
        socket.close()
    await asyncio.sleep(0.2)
    if lost:
        print(f"  !! {lost} message(s) did not arrive within 10 s")
    return latencies


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the stack is stopped on `kill`
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--rounds", type=int, default=30, help="status changes per N")
    parser.add_argument("--client", choices=["lean", "websockets", "both"], default="both",
                        help="lean: a minimal frame reader; websockets: the `websockets` library")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))

    with tempfile.TemporaryDirectory(prefix="cp-bench-ws-") as tmp:
        stack = start_stack(Path(tmp))
        try:
            database, session_key = make_objects()
            publisher = Publisher(database)
            # A short warm-up so connection pools and imports are not in the first figures.
            asyncio.run(run_clients(stack.url, session_key, database.pk, 1, 5, publisher, first_seq=10))
            print(f"status latency, DB commit -> websocket client (ms), {args.rounds} changes per N, "
                  f"{os.cpu_count()} CPUs")
            print(f"{'client':>10} {'N':>6} {'samples':>8} {'p50':>8} {'p99':>8} {'max':>8} {'mean':>8}")
            clients = ["lean", "websockets"] if args.client == "both" else [args.client]
            for run, (client, count) in enumerate((c, n) for c in clients for n in args.clients):
                publisher.committed.clear()
                started = time.perf_counter()
                latencies = asyncio.run(run_clients(stack.url, session_key, database.pk, count, args.rounds,
                                                    publisher, first_seq=1_000_000 * (run + 1), client=client))
                print(f"{client:>10} {count:>6} {len(latencies):>8} {percentile(latencies, .5):>8.1f} "
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
