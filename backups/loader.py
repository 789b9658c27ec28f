"""Putting the keys of RDB files into a database: each file is loaded by a throwaway redis-server on a
free loopback port (no persistence), then every key is copied with DUMP/PTTL + RESTORE REPLACE through
the database's own endpoint, so a sharded database routes each key to the shard that owns it now."""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from redis.cluster import RedisCluster

from core.engines import REDIS, VALKEY, describe, engine_of, version_name
from localtarget import versions

LOAD_TIMEOUT_SECONDS = 120
BATCH = 500


class LoadError(Exception):
    """An RDB file that redis-server refuses to load (corrupted, or from a newer version)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def loaded(rdb: Path, binary: Path) -> Iterator[redis.Redis]:
    """A client to a private redis-server that loaded `rdb` (stopped on exit); LoadError if it refuses."""
    password = secrets.token_urlsafe(24)
    port = free_port()
    folder = rdb.parent
    config = folder / f".{rdb.stem}.conf"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:  # the password in a 0600 file, not on the command line
        handle.write(f'bind 127.0.0.1\nport {port}\ndir "{folder}"\ndbfilename "{rdb.name}"\nsave ""\n'
                     f'appendonly no\nrequirepass "{password}"\nlogfile "{folder / (rdb.stem + ".log")}"\n')
    process = subprocess.Popen([str(binary), str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, password=password, socket_timeout=30)
    try:
        deadline = time.monotonic() + LOAD_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                log = folder / (rdb.stem + ".log")
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
                raise LoadError(f"{rdb.name} cannot be loaded: {tail[0] if tail else 'redis-server exited'}")
            with contextlib.suppress(redis.RedisError):
                if client.info("persistence").get("loading") == 0:
                    break
            if time.monotonic() > deadline:
                raise LoadError(f"{rdb.name} did not load within {LOAD_TIMEOUT_SECONDS}s")
            time.sleep(0.05)
        yield client
    finally:
        stop_throwaway(process)
        client.close()


def loader_binary(destination) -> Path:
    """The server binary of this machine that loads RDB files for `destination` (a client of the database):
    the engine and major.minor it runs (INFO server), so its DUMP payloads are ones the database accepts.
    The database may run anywhere (a Kubernetes pod): what matters is what loads the files here."""
    info = destination.info("server", target_nodes=RedisCluster.RANDOM) if isinstance(destination, RedisCluster) \
        else destination.info("server")
    valkey = info.get("server_name") == "valkey" or "valkey_version" in info
    number = ".".join(str(info.get("valkey_version" if valkey else "redis_version", "")).split(".")[:2])
    wanted = version_name(VALKEY if valkey else REDIS, number)
    offered = {name: versions.server_binary(name) for name in versions.available_versions()}
    for name, binary in offered.items():
        if engine_of(name) == engine_of(wanted) and versions.binary_number(name) == number:
            return binary
    raise LoadError(f"the database runs {describe(wanted)}; loading its backups needs that server binary on the "
                    f"control plane's machine, which offers {', '.join(map(describe, offered)) or 'none'}")


def stop_throwaway(process: subprocess.Popen) -> None:
    """Stop a throwaway redis-server this module started: SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    if process.poll() is None:
        process.kill()
        process.wait()


def key_count(source: redis.Redis) -> int:
    return int(source.dbsize())


def copy_keys(source: redis.Redis, destination, *, password: str | None = None, username: str | None = None) -> int:
    """Copy every key of `source` into `destination` (redis.Redis or RedisCluster); returns keys copied.

    With `password`, batches go server to server with MIGRATE ... COPY REPLACE (to the shard that owns
    each key's slot), logged in as `username` (None: the default user); a batch MIGRATE refuses (a slot moving
    meanwhile) goes through the client instead."""
    copied = 0
    cursor = 0
    while True:
        cursor, keys = source.scan(cursor=cursor, count=BATCH)
        if keys and password is not None:
            left = _migrate(source, destination, keys, password, username)
            copied += len(keys) - len(left)
            keys = left
        if keys:
            pipe = source.pipeline(transaction=False)
            for key in keys:
                pipe.dump(key)
                pipe.pttl(key)
            answers = pipe.execute()
            writes = destination.pipeline(transaction=False)
            for index, key in enumerate(keys):
                payload, ttl = answers[2 * index], answers[2 * index + 1]
                if payload is None:  # expired meanwhile
                    continue
                writes.restore(key, max(ttl, 0), payload, replace=True)
                copied += 1
            writes.execute()
        if cursor == 0:
            return copied


def _owners(destination, keys: list[bytes]) -> dict[tuple[str, int], list[bytes]]:
    """Keys grouped by the (host, port) of the master that owns them now."""
    if not isinstance(destination, RedisCluster):
        kwargs = destination.connection_pool.connection_kwargs
        return {(kwargs.get("host", "127.0.0.1"), int(kwargs.get("port", 6379))): list(keys)}
    groups: dict[tuple[str, int], list[bytes]] = {}
    for key in keys:
        node = destination.nodes_manager.get_node_from_slot(destination.keyslot(key))
        groups.setdefault((node.host, int(node.port)), []).append(key)
    return groups


def _migrate(source: redis.Redis, destination, keys: list[bytes], password: str,
             username: str | None) -> list[bytes]:
    """MIGRATE `keys` to their owners; returns the keys of batches that were refused."""
    left: list[bytes] = []
    auth = ("AUTH2", username, password) if username else ("AUTH", password)
    for (host, port), batch in _owners(destination, keys).items():
        try:
            source.execute_command("MIGRATE", host, port, "", 0, 30_000, "COPY", "REPLACE", *auth, "KEYS", *batch)
        except redis.RedisError:
            left.extend(batch)
    return left
