"""Fuzz the REST API with schemathesis against its own served OpenAPI schema; no 5xx may come back.

    .venv/bin/python scripts/fuzz_api.py [--max-examples N] [--seed S] [-- extra schemathesis options]

Starts a throwaway stack on free loopback ports — a redis-server, the ASGI app (Daphne) on a fresh
SQLite file, a staff user with an API token, a team and a cluster so nested routes exist — runs
`schemathesis run` with every check, then stops everything and removes the files. Prints one
summary line: `fuzz: <cases> cases, <n> server errors (5xx), <m> other check failures, exit <code>`.
Exits non-zero only when a 5xx was seen (other checks are reported, not gating).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, wait_for_port  # noqa: E402

# Path parameters name the objects SETUP creates, so the fuzzer reaches the write path, not only 404s.
CONFIG = """
[parameters]
"path.cluster" = "rec"
"path.name" = "rec"

[[operations]]
include-path-regex = "/databases/[{]name[}]/"
parameters = { "path.name" = "orders" }

[[operations]]
include-path-regex = "/targets/[{]name[}]/"
parameters = { "path.name" = "local" }
"""
SETUP = """
from django.contrib.auth import get_user_model
from accounts.models import Team
from clusters.services import create_cluster
from databases.services import create_database
user = get_user_model().objects.create_user("fuzz", password="fuzz-password-1", is_staff=True)
team = Team.objects.create(name="fuzzers")
team.members.add(user)
cluster = create_cluster(name="rec", spec={"nodes": 1}, actor=user).obj
create_database(cluster=cluster, name="orders", spec={"memorySize": "200MB"}, team=team, actor=user)
"""


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def count_results(report: Path) -> tuple[int, int, int]:
    """(test cases, responses with a 5xx status, other failed checks) from schemathesis' NDJSON events."""
    cases = server_errors = other = 0
    for line in report.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario.get("recorder") or {}
        cases += len(recorder.get("cases") or {})
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response") or {}
            server_errors += int(response.get("status_code", 0)) >= 500
        for checks in (recorder.get("checks") or {}).values():
            other += sum(check.get("status") == "failure" and check.get("name") != "not_a_server_error"
                         for check in checks)
    return cases, server_errors, other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1, help="schemathesis seed (fixed: reproducible runs)")
    parser.add_argument("--workers", type=int, default=2, help="concurrent schemathesis workers")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway files (server log, report)")
    parser.add_argument("extra", nargs="*", help="more `schemathesis run` options (after --)")
    args = parser.parse_args(argv)

    python = sys.executable
    workdir = Path(tempfile.mkdtemp(prefix="cp-fuzz-"))
    redis_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{workdir / 'controlplane.sqlite3'}",
        "CONTROLPLANE_VAR_DIR": str(workdir / "var"),
        "CONTROLPLANE_RECONCILE_MODE": "manual",  # fuzzing the API, not the targets
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "CONTROLPLANE_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DJANGO_DEBUG": "0",
        "CONTROLPLANE_LOG_LEVEL": "ERROR",
    }
    processes: list[subprocess.Popen] = []
    try:
        processes.append(subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        manage = [python, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "shell", "-c", SETUP], env=env, check=True, cwd=ROOT)
        token = subprocess.run([*manage, "create_token", "fuzz"], env=env, check=True, cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        server_log = open(workdir / "web.log", "w")  # noqa: SIM115 - closed with the workdir
        processes.append(subprocess.Popen(
            [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(web_port), "controlplane.asgi:application"],
            env=env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT))
        wait_for_port(web_port, timeout=30.0)
        report = workdir / "events.ndjson"
        (workdir / "schemathesis.toml").write_text(CONFIG)
        command = [
            str(Path(python).with_name("schemathesis")), "--config-file", str(workdir / "schemathesis.toml"),
            "run", f"http://127.0.0.1:{web_port}/api/v1/schema/",
            "--header", f"Authorization: Token {token}", "--checks", "all",
            "--max-examples", str(args.max_examples), "--seed", str(args.seed), "--workers", str(args.workers),
            "--generation-database", "none", "--no-color", "--request-timeout", "30",
            "--report", "ndjson", "--report-ndjson-path", str(report), *args.extra,
        ]
        started = time.monotonic()
        code = subprocess.run(command, cwd=workdir).returncode
        elapsed = time.monotonic() - started
        cases, server_errors, other = count_results(report) if report.exists() else (0, -1, -1)
        tracebacks = (workdir / "web.log").read_text().count("Traceback")
        print(f"fuzz: {cases} cases in {elapsed:.0f}s, {server_errors} server errors (5xx), {other} other check "
              f"failures, {tracebacks} tracebacks in the server log, schemathesis exit {code}")
        if tracebacks:
            print((workdir / "web.log").read_text()[-4000:])
        return 1 if server_errors or tracebacks or server_errors < 0 else 0
    finally:
        for proc in reversed(processes):
            stop(proc)
        if args.keep:
            print(f"fuzz: files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
