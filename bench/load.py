"""Load on a running control plane: concurrent REST clients and websocket watchers, then convergence.

Each client loops over a weighted mix on its own databases (list, detail, PATCH with If-Match,
create, delete) for `--duration` seconds; `--watchers` websocket clients watch the overview stream.
Afterwards every database the run created must converge: active at its last generation, or gone
when deleted. Prints per-endpoint throughput, p50/p99 and errors, then one summary line.

    make run        # or: make run-prod
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 [--env-file var/prod.env]
        [--clients 50] [--duration 30] [--watchers 5] [--creates 20]

It sets itself up through `manage.py` (so it needs the stack's environment: `--env-file` is the
file `make run-prod` writes): a staff user `loader` in team `load`, a token, a password for the
websocket login, and a cluster `load` (waiting until it runs). 409 on a PATCH (another client's
change won) is counted as a conflict, not an error.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

BASE_DIR = Path(__file__).resolve().parent.parent
WEIGHTS = {"GET list": 33, "GET detail": 33, "PATCH database": 15, "POST database": 8, "DELETE database": 7,
           "GET baseline": 4}
# The floor of the same run: a JSON 404 under /api/v1/ goes through the server, the ASGI handler and every
# middleware but no view, no token check and no SQL. Its p99 is what any request waits in the queue on a
# busy machine; list/detail p99 divided by it says how much the views themselves add.
BASELINE_PATH = "no-such-endpoint/"
CLUSTER_SPEC = {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "8Gi"}}}

SETUP = """
from django.contrib.auth import get_user_model
from accounts.models import Team
user, _ = get_user_model().objects.get_or_create(username="loader", defaults={"is_staff": True})
user.is_staff = True
user.set_password(PASSWORD)
user.save()
Team.objects.get_or_create(name="load")[0].members.add(user)
"""


def stack_env(env_file: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if env_file:
        for line in Path(env_file).read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                env[key.strip()] = value.strip()
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{result.stderr[-2000:]}")
    return result.stdout.strip()


def set_up_user(env: dict[str, str]) -> tuple[str, str]:
    """A staff user `loader` in team `load`; returns (token, password)."""
    password = secrets.token_urlsafe(16)
    manage(env, "shell", "-c", SETUP.replace("PASSWORD", repr(password)))
    token = manage(env, "create_token", "loader", "--rotate").splitlines()[-1].strip()
    return token, password


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    conflicts: int = 0
    error_samples: list[str] = field(default_factory=list)
    ws_messages: int = 0
    ws_errors: int = 0

    def record(self, name: str, seconds: float, ok: bool, detail: str = "") -> None:
        self.latencies[name].append(seconds)
        if not ok:
            self.errors[name] += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{name}: {detail[:200]}")


@dataclass
class Ledger:
    """What the run asked for: databases it created (name -> last generation) and deleted."""

    live: dict[str, int] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    created: int = 0


class Client:
    def __init__(self, session: aiohttp.ClientSession, url: str, token: str, stats: Stats):
        self.session, self.url, self.stats = session, url.rstrip("/"), stats
        self.headers = {"Authorization": f"Token {token}"}

    async def call(self, name: str, method: str, path: str, body: dict | None = None,
                   expect: tuple[int, ...] = (200,), headers: dict | None = None) -> tuple[int, dict | None]:
        start = time.perf_counter()
        try:
            async with self.session.request(method, f"{self.url}/api/v1/{path}", json=body,
                                            headers={**self.headers, **(headers or {})}) as response:
                text = await response.text()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.stats.record(name, time.perf_counter() - start, False, f"{type(exc).__name__}: {exc}")
            return 0, None
        elapsed = time.perf_counter() - start
        if status == 409 and method == "PATCH":
            self.stats.conflicts += 1
            self.stats.record(name, elapsed, True)
            return status, None
        ok = status in expect
        self.stats.record(name, elapsed, ok, f"HTTP {status} {text}")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, None


async def client_loop(index: int, client: Client, cluster: str, ledger: Ledger, creates: int, deadline: float,
                      rng: random.Random) -> None:
    mine: list[str] = []
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    serial = 0
    while time.monotonic() < deadline:
        op = rng.choices(names, weights)[0]
        if op == "POST database" and ledger.created >= creates:
            op = "GET detail"
        if op in ("PATCH database", "DELETE database") and not mine:
            op = "GET detail"
        if op == "GET detail" and not ledger.live:
            op = "GET list" if ledger.created >= creates else "POST database"
        base = f"clusters/{cluster}/databases/"
        if op == "GET baseline":
            await client.call(op, "GET", BASELINE_PATH, expect=(404,))
        elif op == "GET list":
            await client.call(op, "GET", "databases/?limit=50")
        elif op == "GET detail":
            await client.call(op, "GET", base + rng.choice(list(ledger.live)) + "/", expect=(200, 404))
        elif op == "POST database":
            ledger.created += 1
            serial += 1
            name = f"load-{index}-{serial}-{secrets.token_hex(2)}"
            status, data = await client.call(op, "POST", base, {"name": name, "spec": {"memorySize": "100MB"}},
                                             expect=(201,))
            if status == 201:
                mine.append(name)
                ledger.live[name] = data["generation"]
        elif op == "PATCH database":
            name = rng.choice(mine)
            size = rng.choice(["100MB", "110MB", "120MB"])
            status, data = await client.call(op, "PATCH", base + name + "/", {"spec": {"memorySize": size}},
                                             headers={"If-Match": f'"{ledger.live[name]}"'})
            if status == 200 and data:
                ledger.live[name] = data["generation"]
            elif status == 409:  # someone else's change won: read the new generation
                _, fresh = await client.call("GET detail", "GET", base + name + "/")
                if fresh:
                    ledger.live[name] = fresh["generation"]
        elif op == "DELETE database":
            name = mine.pop(rng.randrange(len(mine)))
            status, _ = await client.call(op, "DELETE", base + name + "/", expect=(200, 202, 204))
            if status in (200, 202, 204):
                ledger.live.pop(name, None)
                ledger.deleted.add(name)


async def watcher(session: aiohttp.ClientSession, url: str, password: str, stats: Stats, deadline: float) -> None:
    """Log in with the session form, then watch /ws/overview/ until the deadline."""
    try:
        async with session.get(f"{url}/login/") as response:
            page = await response.text()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        form = {"username": "loader", "password": password, "csrfmiddlewaretoken": match.group(1) if match else ""}
        async with session.post(f"{url}/login/", data=form, headers={"Referer": f"{url}/login/"}) as response:
            await response.read()
        ws_url = url.replace("http", "ws", 1) + "/ws/overview/"
        async with session.ws_connect(ws_url, origin=url, heartbeat=20) as ws:
            while time.monotonic() < deadline:
                try:
                    message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.TEXT:
                    stats.ws_messages += 1
                elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    stats.ws_errors += 1
                    stats.error_samples.append(f"websocket closed: {message.type.name} {message.data}")
                    return
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.ws_errors += 1
        stats.error_samples.append(f"websocket: {type(exc).__name__}: {exc}")


async def ensure_cluster(client: Client, cluster: str, target: str | None, timeout: float) -> None:
    status, _ = await client.call("setup", "GET", f"clusters/{cluster}/", expect=(200, 404))
    if status == 404:
        body = {"name": cluster, "namespace": cluster, "spec": CLUSTER_SPEC, **({"target": target} if target else {})}
        status, data = await client.call("setup", "POST", "clusters/", body, expect=(201,))
        if status != 201:
            raise SystemExit(f"cannot create cluster {cluster}: HTTP {status} {data}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, data = await client.call("setup", "GET", f"clusters/{cluster}/", expect=(200,))
        if data and data.get("status", {}).get("state") == "Running":
            return
        await asyncio.sleep(1)
    raise SystemExit(f"cluster {cluster} did not reach Running within {timeout:.0f}s (is a worker running?)")


async def converged(client: Client, cluster: str, ledger: Ledger, timeout: float) -> tuple[int, int, list[str]]:
    """(converged, total, not-converged names): live ones active at their generation, deleted ones gone."""
    pending = {**{name: gen for name, gen in ledger.live.items()}, **{name: None for name in ledger.deleted}}
    deadline = time.monotonic() + timeout
    total = len(pending)
    while pending and time.monotonic() < deadline:
        for name, generation in list(pending.items()):
            status, data = await client.call("converge", "GET", f"clusters/{cluster}/databases/{name}/",
                                             expect=(200, 404))
            if generation is None and status == 404:
                pending.pop(name)
            elif generation is not None and status == 200 and data["status"].get("state") == "active" \
                    and data["status"].get("observedGeneration") == generation == data["generation"]:
                pending.pop(name)
        if pending:
            await asyncio.sleep(1)
    return total - len(pending), total, sorted(pending)[:5]


def convergence_problem(status: int, data: dict | None, generation: int | None) -> str:
    if generation is None:
        return f"deleted but HTTP {status}"
    if status != 200:
        return f"HTTP {status}"
    return f"{data['status'].get('state')} observed {data['status'].get('observedGeneration')} of {generation}"


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)


async def run(args) -> dict:
    env = stack_env(args.env_file)
    token, password = (args.token, args.password) if args.token else set_up_user(env)
    stats = Stats()
    ledger = Ledger()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        setup_client = Client(session, args.url, token, stats)
        await ensure_cluster(setup_client, args.cluster, args.target, args.converge_timeout)
        stats.latencies.pop("setup", None)
        rng = random.Random(args.seed)
        start = time.monotonic()
        deadline = start + args.duration
        tasks = [client_loop(i, Client(session, args.url, token, stats), args.cluster, ledger, args.creates,
                             deadline, random.Random(rng.random())) for i in range(args.clients)]
        watchers = []
        for _ in range(args.watchers if password else 0):
            jar_session = aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True))
            watchers.append((jar_session, watcher(jar_session, args.url.rstrip("/"), password, stats, deadline)))
        await asyncio.gather(*tasks, *(w for _, w in watchers))
        for jar_session, _ in watchers:
            await jar_session.close()
        elapsed = time.monotonic() - start
        load_latencies = {k: v for k, v in stats.latencies.items() if k in WEIGHTS}
        done, total, stuck = await converged(setup_client, args.cluster, ledger, args.converge_timeout)
    return {"stats": stats, "latencies": load_latencies, "elapsed": elapsed, "converged": done, "total": total,
            "stuck": stuck, "clients": args.clients, "watchers": args.watchers}


def report(result: dict, label: str) -> str:
    stats = result["stats"]
    print(f"{'endpoint':<18} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    requests = errors = 0
    p99s = {}
    for name in WEIGHTS:
        values = result["latencies"].get(name, [])
        if not values:
            continue
        requests += len(values)
        errors += stats.errors.get(name, 0)
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        p99s[name] = p99
        print(f"{name:<18} {len(values):>8} {len(values) / result['elapsed']:>8.1f} {p50:>8.1f} {p99:>8.1f} "
              f"{stats.errors.get(name, 0):>7}")
    for sample in stats.error_samples:
        print(f"  error: {sample}")
    if result["stuck"]:
        print(f"  not converged: {', '.join(result['stuck'])}")
    baseline = p99s.get("GET baseline", 0)

    def ratio(name: str) -> str:
        return f"{p99s.get(name, 0) / baseline:.1f}" if baseline else "-"

    summary = (f"LOAD {label}: clients={result['clients']} watchers={result['watchers']} requests={requests} "
               f"rps={requests / result['elapsed']:.1f} errors={errors} conflicts={stats.conflicts} "
               f"list_p99_ms={p99s.get('GET list', 0):.1f} detail_p99_ms={p99s.get('GET detail', 0):.1f} "
               f"baseline_p99_ms={baseline:.1f} list_ratio={ratio('GET list')} detail_ratio={ratio('GET detail')} "
               f"loadavg={os.getloadavg()[0]:.1f} "
               f"ws_messages={stats.ws_messages} ws_errors={stats.ws_errors} "
               f"converged={result['converged']}/{result['total']}")
    print(summary, flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--env-file", help="environment of the stack for manage.py (make run-prod: var/prod.env)")
    parser.add_argument("--token", help="use this token (and --password for watchers) instead of setting up")
    parser.add_argument("--password", default="")
    parser.add_argument("--cluster", default="load", help="created if missing (then waits until it runs)")
    parser.add_argument("--target", help="target of the cluster when it is created (default: the default target)")
    parser.add_argument("--clients", type=int, default=50, choices=range(1, 501), metavar="1-500")
    parser.add_argument("--watchers", type=int, default=5, choices=range(0, 501), metavar="0-500")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--creates", type=int, default=20, help="databases created in total (local target: "
                                                                "each is real processes)")
    parser.add_argument("--converge-timeout", type=float, default=180.0)
    parser.add_argument("--label", default="", help="name for the summary line, e.g. sqlite or postgresql")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 3600 or not 0 <= args.creates <= 1000:
        parser.error("--duration is 1-3600 s and --creates 0-1000")
    result = asyncio.run(run(args))
    report(result, args.label or args.url)
    errors = sum(result["stats"].errors.values())
    return 0 if errors == 0 and result["converged"] == result["total"] else 1


if __name__ == "__main__":
    sys.exit(main())
