"""A writer thread for the tests that write while the system changes under them (failover, cut-over,
resharding): started on entering a `with` block, stopped and joined on leaving it."""
from __future__ import annotations

import threading

import redis


def acknowledged_set(client: redis.Redis, key: str, value, timeout_ms: int = 1000) -> bool:
    """SET `key`, then True once `WAIT 1` says a replica has it. Both go out as one pipeline: redis-py retries a
    command after a connection error on a new connection (10 times by default), and a WAIT retried alone on a
    fresh connection to a new master counts its replicas at once (that connection wrote nothing), acknowledging
    a SET that the old master took and nobody kept. A pipeline is retried whole, so the WAIT covers its SET."""
    _, replicas = client.pipeline(transaction=False).set(key, value).execute_command("WAIT", 1, timeout_ms).execute()
    return replicas >= 1


class BackgroundWriter:
    """Subclasses write in `_run` until `stopping`."""
    join_timeout = 10.0

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.join_timeout)


class CutOverWriter(BackgroundWriter):
    """Writes `live:N` to the source until it refuses (the cut-over's NOREPLICAS fence), then to the new
    database; `acknowledged` lists every key a server accepted, `moved` is set at the switch."""

    def __init__(self, source: redis.Redis, target: redis.Redis):
        super().__init__()
        self.client, self.target = source, target
        self.acknowledged: list[str] = []
        self.moved = threading.Event()

    def _run(self) -> None:
        number = 0
        while not self.stopping:
            try:
                self.client.set(f"live:{number}", number)
                self.acknowledged.append(f"live:{number}")
            except redis.ResponseError as exc:
                assert "NOREPLICAS" in str(exc)
                self.client = self.target
                self.moved.set()
            number += 1
            self._stop.wait(0.001)
