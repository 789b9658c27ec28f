"""A database's follower: the staging replica that keeps up with its `replicaSources` source between passes,
so a cut-over only has to wait for the last writes (migration.py does the cut-over steps).

One per database, a daemonized redis-server on a loopback port of the control plane's machine, under
`VAR_DIR/replica-sources/<database id>/` (0700; its password in the 0600 `state.json` and config, never on
a command line). Adopted by every pass (PING with its password), started when missing, pointed at the source's
current address (a failover of a managed source moves it), linked again when the source's certificates or login
changed at the same address (link_plan.py), stopped when the field goes away.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from targets.private_files import private_dir, write_private

from .link_plan import KEEP, LINK, RELINK, LinkMove, LinkSettings, login_digest, plan_link, tls_fingerprint
from .migration import MigrationError, Source, follow, link_again, start_staging

STATE = "state.json"
START_SECONDS = 10


@dataclass(frozen=True)
class Follower:
    folder: Path
    port: int
    password: str

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, socket_timeout=10, socket_connect_timeout=2,
                           retry=Retry(NoBackoff(), 0))  # callers retry themselves; SHUTDOWN answers nothing


def root() -> Path:
    return Path(settings.VAR_DIR) / "replica-sources"


def folder_of(database_id: int) -> Path:
    return root() / str(int(database_id))


def _state(database_id: int) -> dict:
    try:
        state = json.loads((folder_of(database_id) / STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def running(database_id: int) -> Follower | None:
    """The database's follower when it runs and answers."""
    state = _state(database_id)
    try:
        follower = Follower(folder_of(database_id), int(state["port"]), str(state["password"]))
    except (ValueError, KeyError, TypeError):
        return None
    client = follower.client()
    try:
        client.ping()
    except redis.RedisError:
        return None
    finally:
        client.close()
    return follower


def link_settings(source: Source, follower: Follower) -> LinkSettings:
    """What the follower should link with: `source`'s address and fingerprints of its TLS files and login."""
    pems = (source.tls.ca_file.read_text(), source.tls.cert_file.read_text(), source.sni) \
        if source.tls is not None else ()
    return LinkSettings(*source.address, tls_fingerprint(*pems),
                        login_digest(source.username, source.password, follower.password))


def ensure(database_id: int, source: Source, binary: Path) -> tuple[Follower, LinkMove]:
    """The database's follower, started if needed, replicating `source` with its current link settings; and
    the move that took (LINK: a new link, RELINK: linked again at the same address, KEEP: nothing done)."""
    follower = running(database_id)
    if follower is None:
        stop(database_id)  # whatever is left of a dead one
        folder = private_dir(folder_of(database_id))
        _, port, password = start_staging(binary, folder, detach=True)
        write_private(folder / STATE, json.dumps({"port": port, "password": password}))
        follower = Follower(folder, port, password)
    try:
        wanted = link_settings(source, follower)
    except OSError as exc:
        raise MigrationError(f"the TLS files of {source.host}:{source.port} cannot be read: {exc.strerror}") \
            from None
    client = follower.client()
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            try:
                move = plan_link(client.info("replication"), _state(database_id).get("link"), wanted)
                if move.action == LINK:
                    follow(client, source)
                elif move.action == RELINK:
                    link_again(client, source)
                break
            except (redis.ConnectionError, redis.BusyLoadingError) as exc:  # a daemon listens a moment after
                if time.monotonic() > deadline:
                    raise MigrationError(f"the follower of {source.host}:{source.port} does not answer: {exc}") \
                        from None
                time.sleep(0.05)
            except redis.RedisError as exc:
                raise MigrationError(f"the follower of {source.host}:{source.port} cannot be set up: {exc}") \
                    from None
    finally:
        client.close()
    if move.action != KEEP:
        write_private(follower.folder / STATE, json.dumps(
            {"port": follower.port, "password": follower.password, "link": wanted.recorded()}))
    return follower, move


def progress(follower: Follower, source: Source) -> dict:
    """status.replicaSourceStatus: how far the follower is (link, full sync, bytes behind the source, keys)."""
    client = follower.client()
    try:
        info = client.info("replication")
        keys = int(client.dbsize())
    finally:
        client.close()
    syncing = bool(int(info.get("master_sync_in_progress", 0)))
    link = str(info.get("master_link_status", "down"))
    status = {"source": f"{source.host}:{source.port}", "linkStatus": link, "syncInProgress": syncing,
              "inSync": link == "up" and not syncing, "keys": keys}
    with contextlib.suppress(redis.RedisError, KeyError, ValueError):
        source_offset = int(source.client().info("replication")["master_repl_offset"])
        status["lagBytes"] = max(0, source_offset - int(info.get("slave_repl_offset", 0)))
    return status


def stop(database_id: int) -> None:
    """Stop the follower (SHUTDOWN NOSAVE, else its pid killed) and remove its folder."""
    folder = folder_of(database_id)
    follower = running(database_id)
    if follower is not None:
        with contextlib.suppress(redis.RedisError):
            follower.client().shutdown(nosave=True)
    with contextlib.suppress(OSError, ValueError):
        pid = int((folder / "staging.pid").read_text().split()[0])
        if b"redis" in Path(f"/proc/{pid}/cmdline").read_bytes() or b"valkey" in Path(
                f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


def followed() -> list[int]:
    """Ids of the databases that have a follower folder."""
    if not root().is_dir():
        return []
    return sorted(int(p.name) for p in root().iterdir() if p.name.isdigit())
