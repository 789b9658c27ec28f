"""API throttles hold across web processes: `make run-prod` runs several uvicorn workers, and the counts
live in the shared Redis cache, so an address gets the limit once, not once per process.

Two separate web processes on two ports (where uvicorn's workers share one socket and the kernel picks
the process, which a test cannot steer): failures sent to either count against one limit."""
from __future__ import annotations

import subprocess

from controlplane.prodstack import web_command
from tests.browser.stack import BASE_DIR, BIN_DIR, stop_child
from tests.servers import free_port, wait_for_port

from .stack import ProdShapedStack
from .test_concurrent_writes import call

LIMIT = 4


class TwoWebProcesses(ProdShapedStack):
    """The stack's web process plus a second one on another port, same database and Redis."""

    web_workers = 1

    def start_web(self) -> None:
        super().start_web()
        self.other_port = free_port()
        log = open(self.root / "web-2.log", "ab")
        self._other = subprocess.Popen(web_command(str(BIN_DIR / "python"), 1, self.other_port), cwd=BASE_DIR,
                                       env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_port(self.other_port, timeout=60)

    def stop_web(self) -> None:
        stop_child(getattr(self, "_other", None))
        self._other = None
        super().stop_web()


def test_token_failures_sent_to_two_web_processes_count_against_one_limit(tmp_path):
    live = TwoWebProcesses(tmp_path, CP_THROTTLE_TOKEN_FAILURES=f"{LIMIT}/min")
    try:
        live.start()
        valid = live.manage("create_token", "ops").strip().splitlines()[-1]
        first, second = (f"http://127.0.0.1:{port}/api/v1/clusters/" for port in (live.port, live.other_port))
        assert call(first, valid, "GET")[0] == 200 and call(second, valid, "GET")[0] == 200

        # LIMIT failures in all, half through each process: each of them alone has seen only half.
        codes = [call(url, "0" * 40, "GET")[0] for url in [first] * (LIMIT // 2) + [second] * (LIMIT // 2)]
        assert codes == [401] * LIMIT, codes

        # The limit is reached for the address in both processes: even a valid token is refused by each.
        for url in (first, second):
            code, body = call(url, valid, "GET")
            assert code == 429 and "failed token authentications" in body["detail"], (url, code, body)
    finally:
        live.close()
