"""`make run`: the whole product on one machine, on its embedded defaults.

Starts a Redis for the broker and channel layer, migrates, makes sure an admin login and API
token exist (and prints them), then runs web (Daphne, ASGI), a Celery worker, Celery beat and the
Kubernetes watcher (`manage.py watch_targets`) in the foreground. Ctrl-C stops all of it.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from targets.private_files import PRIVATE_UMASK, made_private_once, private_dir, write_private

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTROLPLANE_VAR_DIR", BASE_DIR / "var"))
WEB_PORT = int(os.environ.get("CONTROLPLANE_PORT", "8000"))


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start_redis(url: str) -> subprocess.Popen | None:
    """A private Redis for Celery and Channels, unless one already answers at REDIS_URL."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if port_open(host, port):
        print(f"Using the Redis already running at {host}:{port}")
        return None
    data = private_dir(VAR_DIR / "controlplane-redis")
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", host,
                             "--dir", str(data), "--save", "60 1", "--appendonly", "no"],
                            stdout=open(data / "redis.log", "a"), stderr=subprocess.STDOUT)
    for _ in range(50):
        if port_open(host, port):
            return proc
        time.sleep(0.1)
    raise SystemExit(f"Redis did not start on {host}:{port}; see {data / 'redis.log'}")


def prepare_django() -> tuple[str, str, str]:
    """Migrate and make sure an admin and its API token exist; returns (username, password, token)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    User = get_user_model()
    credentials_file = VAR_DIR / "admin-credentials"
    user = User.objects.filter(username="admin").first()
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser("admin", "admin@localhost", password)
        write_private(credentials_file, password)
    if credentials_file.exists():
        password = credentials_file.read_text().strip()
    else:
        password = "(set earlier; change it with: python manage.py changepassword admin)"
    return "admin", password, dev_token(user)


def dev_token(user) -> str:
    """The admin's API token for `make run`: only a digest is in the database, so the token itself is kept
    in a 0600 file under var/ (like the admin password) to be printed at every start."""
    from accounts.tokens import issue_token, token_is_valid

    token_file = VAR_DIR / "admin-token"
    if token_file.exists() and token_is_valid(user, token_file.read_text().strip()):
        return token_file.read_text().strip()
    token = issue_token(user)
    write_private(token_file, token)
    return token


def main() -> int:
    # Everything started from here (Redis, Daphne, Celery and the processes the local target starts)
    # creates private files; a var/ tree from before this rule is made private too.
    os.umask(PRIVATE_UMASK)
    made_private_once(VAR_DIR)
    made_private_once(BASE_DIR / "var")  # the SQLite file's folder, when CONTROLPLANE_VAR_DIR points elsewhere
    os.environ.setdefault("DJANGO_DEBUG", "1")
    redis_url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6390/0")
    python = sys.executable
    processes: list[tuple[str, subprocess.Popen]] = []
    redis_proc = start_redis(redis_url)
    if redis_proc:
        processes.append(("redis", redis_proc))
    username, password, token = prepare_django()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes += [
        ("web", subprocess.Popen([python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(WEB_PORT),
                                  "controlplane.asgi:application"], cwd=BASE_DIR, env=env)),
    ]
    processes += celery_processes(python, env, concurrency=2)
    print_banner(username, password, token)
    return supervise(processes)


def celery_processes(python: str, env: dict, concurrency: int) -> list[tuple[str, subprocess.Popen]]:
    """The Celery worker and beat, the same in both modes."""
    return [
        ("worker", subprocess.Popen([python, "-m", "celery", "-A", "controlplane", "worker", "-l", "info",
                                     "--concurrency", str(concurrency)], cwd=BASE_DIR, env=env)),
        ("beat", subprocess.Popen([python, "-m", "celery", "-A", "controlplane", "beat", "-l", "warning",
                                   "--schedule", str(VAR_DIR / "celerybeat-schedule")], cwd=BASE_DIR, env=env)),
        # kubectl-made REC/REDB and out-of-band changes on Kubernetes targets (kube/crsync/watch.py)
        ("watcher", subprocess.Popen([python, "manage.py", "watch_targets"], cwd=BASE_DIR, env=env)),
    ]


def print_banner(username: str, password: str, token: str) -> None:
    print(f"""
Redis control plane is starting.
  Dashboard:  http://127.0.0.1:{WEB_PORT}/          login: {username} / {password}
  REST API:   http://127.0.0.1:{WEB_PORT}/api/v1/   token: {token}
              curl -H 'Authorization: Token {token}' http://127.0.0.1:{WEB_PORT}/api/v1/clusters/
  API docs:   http://127.0.0.1:{WEB_PORT}/api/v1/docs/
Press Ctrl-C to stop everything.
""", flush=True)


def supervise(processes: list[tuple[str, subprocess.Popen]]) -> int:
    """Run until Ctrl-C/SIGTERM or until one process exits; then stop the rest, last started first."""
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in processes:
            if proc.poll() is not None:
                print(f"{name} exited with code {proc.returncode}; stopping the rest.", file=sys.stderr)
                stopping, exit_code = True, 1
        time.sleep(0.5)
    for _, proc in reversed(processes):
        if proc.poll() is None:
            proc.terminate()
    for _, proc in reversed(processes):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("Stopped. Redis clusters and databases started by the local target keep running; "
          "they are adopted at the next start.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
