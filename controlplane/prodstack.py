"""`make run-prod`: the production-shaped stack on one machine.

The same processes as docker-compose.yml: PostgreSQL (a private cluster in var-postgres/ next to var/, from
Debian's binaries, unless DATABASE_URL names one), Redis, several uvicorn ASGI workers with DEBUG off
and static files served by WhiteNoise, the Celery worker and beat. It generates DJANGO_SECRET_KEY once
into var/secret-key and CONTROLPLANE_ENCRYPTION_KEYS into var/encryption-keys (0600) when the
environment does not set them, and writes the stack's environment to
var/prod.env (0600) so `manage.py` commands reach the same database:
`set -a; . var/prod.env; set +a; .venv/bin/python manage.py ...`. Ctrl-C stops it all.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from controlplane.devstack import (
    BASE_DIR,
    VAR_DIR,
    WEB_PORT,
    celery_processes,
    prepare_django,
    print_banner,
    start_redis,
    supervise,
)
from controlplane.localpostgres import LocalPostgres
from targets.private_files import PRIVATE_UMASK, made_private_once, write_private


def default_web_workers() -> int:
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


def generated_secret(variable: str, filename: str, make) -> str:
    """`variable` from the environment, else the value generated once into var/<filename> (0600)."""
    if os.environ.get(variable):
        return os.environ[variable]
    path = VAR_DIR / filename
    if not path.exists():
        write_private(path, make())
    return path.read_text().strip()


def secret_key() -> str:
    return generated_secret("DJANGO_SECRET_KEY", "secret-key", lambda: secrets.token_urlsafe(50))


def encryption_keys() -> str:
    return generated_secret("CONTROLPLANE_ENCRYPTION_KEYS", "encryption-keys", lambda: Fernet.generate_key().decode())


def postgres_root(var_dir: Path) -> Path:
    """Where the private PostgreSQL cluster lives: next to var/, not in it. As root PostgreSQL runs as
    `postgres`, which must pass through the folders above its data, and the local target keeps var/ and
    everything in it 0700 (it re-applies that in every process): a cluster inside var/ lost its data
    folder at its first checkpoint ("could not open pg_control: Permission denied")."""
    return var_dir.with_name(var_dir.name + "-postgres")


def write_env_file(keys: tuple[str, ...]) -> None:
    """var/prod.env (0600): the stack's environment, for `manage.py` commands and bench/load.py --env-file."""
    write_private(VAR_DIR / "prod.env", "".join(f"{key}={os.environ[key]}\n" for key in keys if os.environ.get(key)))


def web_command(python: str, workers: int, port: int) -> list[str]:
    """uvicorn's own supervisor runs `workers` processes on one socket and restarts any that dies."""
    return [python, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--lifespan", "off", "--no-access-log", "--timeout-graceful-shutdown", "10"]


def main() -> int:
    os.umask(PRIVATE_UMASK)  # as `make run`: every file the stack and the local target write is private
    made_private_once(VAR_DIR)
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECRET_KEY"] = secret_key()
    os.environ["CONTROLPLANE_ENCRYPTION_KEYS"] = encryption_keys()
    redis_url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6390/0")
    postgres = None
    if not os.environ.get("DATABASE_URL"):
        postgres = LocalPostgres(postgres_root(VAR_DIR), port=int(os.environ.get("CONTROLPLANE_PG_PORT", "6432")))
        postgres.start()
        os.environ.update(postgres.env())
        print(f"PostgreSQL: {postgres.url} (data in {postgres.data_dir})")
    python = sys.executable
    processes: list[tuple[str, subprocess.Popen]] = []
    try:
        redis_proc = start_redis(redis_url)
        if redis_proc:
            processes.append(("redis", redis_proc))
        os.environ["CONTROLPLANE_VAR_DIR"] = str(VAR_DIR)
        write_env_file(("DATABASE_URL", "DATABASE_PASSWORD", "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "REDIS_URL",
                        "CONTROLPLANE_VAR_DIR", "CONTROLPLANE_ENCRYPTION_KEYS"))
        username, password, token = prepare_django()
        subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=BASE_DIR, check=True)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        workers = int(os.environ.get("CONTROLPLANE_WEB_WORKERS", default_web_workers()))
        web_env = dict(env, CONTROLPLANE_DB_POOL=os.environ.get("CONTROLPLANE_DB_POOL", "10"))
        processes.append(("web", subprocess.Popen(web_command(python, workers, WEB_PORT), cwd=BASE_DIR,
                                                  env=web_env)))
        processes += celery_processes(python, env, concurrency=int(os.environ.get("CONTROLPLANE_WORKER_CONCURRENCY",
                                                                                 "4")))
        print_banner(username, password, token)
        print(f"Production mode: DEBUG off, {workers} uvicorn workers, PostgreSQL, static files from WhiteNoise.")
        return supervise(processes)
    finally:
        for _, proc in processes:
            if proc.poll() is None:
                proc.kill()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
