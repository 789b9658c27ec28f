"""A production-shaped live stack for fault tests: uvicorn with two worker processes (as `make run-prod`),
on SQLite or on a throwaway PostgreSQL, reconciliation stepped by the test unless a Celery worker is started."""
from __future__ import annotations

import subprocess

import pytest

from controlplane.prodstack import web_command
from tests.browser.stack import BASE_DIR, BIN_DIR, LiveStack
from tests.servers import postgres_server, wait_for_port


class ProdShapedStack(LiveStack):
    """LiveStack with uvicorn workers instead of one Daphne process."""

    web_workers = 2

    def start_web(self) -> None:
        log = open(self.root / "web.log", "ab")
        self._web = subprocess.Popen(web_command(str(BIN_DIR / "python"), self.web_workers, self.port),
                                     cwd=BASE_DIR, env={**self.env, "CONTROLPLANE_DB_POOL": "4"},
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_port(self.port, timeout=60)


def sql_backend_env(backend: str, exit_stack) -> dict[str, str]:
    """Environment for `backend` ("sqlite" is LiveStack's default; "postgresql" starts a throwaway server)."""
    if backend == "sqlite":
        return {}
    from controlplane.localpostgres import PostgresUnavailable

    try:
        server = exit_stack.enter_context(postgres_server())
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL here: {exc}")
    return server.env()
