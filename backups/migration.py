"""Live migration from another Redis: a staging replica follows the source (replica-of, so every write
the source acknowledges reaches it), then the cut-over fences writes on the source, waits until the
staging replica has the source's last offset, and copies every key into the database.

The fence is `min-replicas-to-write` set above the source's replica count: from then on the source
answers writes with NOREPLICAS (never acknowledges one), so a writer sees an error and moves to the new
database, and no acknowledged write can be missing. `undo_fence` puts the setting back.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from .loader import throwaway_server

SYNC_TIMEOUT_SECONDS = 300
CATCH_UP_TIMEOUT_SECONDS = 60
FENCE_REPLICAS = 1000


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Source:
    host: str
    port: int
    password: str | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, password=self.password, socket_timeout=10)


def staging_replica(source: Source, binary: Path, folder: Path) -> contextlib.AbstractContextManager[redis.Redis]:
    """A private redis-server replicating `source`, in sync when yielded (stopped on exit)."""
    settings = (f'dir "{folder}"\nlogfile "{folder / "staging.log"}"\nreplica-read-only yes\n'
                f"replicaof {source.host} {source.port}\n")
    if source.password:
        settings += f'masterauth "{source.password}"\n'  # in the 0600 config file, never on a command line
    return throwaway_server(
        binary, folder / "staging.conf", settings, _in_sync, timeout=SYNC_TIMEOUT_SECONDS,
        exited=lambda: MigrationError("the staging replica exited; see its log"),
        late=lambda: MigrationError(f"no full sync from {source.host}:{source.port} within "
                                    f"{SYNC_TIMEOUT_SECONDS}s (wrong address or password?)"))


def _in_sync(client: redis.Redis) -> bool:
    with contextlib.suppress(redis.RedisError):
        info = client.info("replication")
        return info.get("master_link_status") == "up" and not int(info.get("master_sync_in_progress", 0))
    return False


def fence(source: Source) -> str:
    """Make the source refuse every write from now on; returns the setting to put back."""
    client = source.client()
    before = client.config_get("min-replicas-to-write").get("min-replicas-to-write", "0")
    client.config_set("min-replicas-to-write", FENCE_REPLICAS)
    return str(before)


def undo_fence(source: Source, before: str) -> None:
    source.client().config_set("min-replicas-to-write", before)


def wait_caught_up(source: Source, staging: redis.Redis) -> None:
    """Until the staging replica has processed everything the (fenced) source wrote."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        wanted = int(source.client().info("replication")["master_repl_offset"])
        info = staging.info("replication")
        if info.get("master_link_status") == "up" and int(info.get("slave_repl_offset", -1)) >= wanted:
            return
        time.sleep(0.05)
    raise MigrationError(f"the staging replica did not catch up within {CATCH_UP_TIMEOUT_SECONDS}s")

