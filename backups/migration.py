"""Live migration from another Redis: a staging replica follows the source (replica-of, so every write
the source acknowledges reaches it), then the cut-over fences writes on the source, waits until the
staging replica has the source's last offset, and copies every key into the database.

The fence is `min-replicas-to-write` set above the source's replica count: from then on the source
answers writes with NOREPLICAS (never acknowledges one), so a writer sees an error and moves to the new
database, and no acknowledged write can be missing. `undo_fence` puts the setting back.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from .loader import free_port, stop_throwaway

SYNC_TIMEOUT_SECONDS = 300
CATCH_UP_TIMEOUT_SECONDS = 60
FENCE_REPLICAS = 1000


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class SourceTls:
    """How a TLS source (`rediss://`) is reached: the CA its server certificate is checked against, and the
    certificate and key presented to it (the client's for a mutual-TLS source, else a throwaway one: redis-server
    makes no TLS connection without one). Files (0600) the follower's CONFIG SET and the control plane read."""
    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class Source:
    host: str
    port: int
    password: str | None = None
    username: str | None = None  # None: the default user
    tls: SourceTls | None = None
    sni: str = ""  # tlsSniName: reached through `relay_port` (sni_relay.py), which speaks the TLS
    relay_port: int = 0

    @property
    def address(self) -> tuple[str, int]:
        """Where the follower and the control plane connect: the source, or the loopback relay to it."""
        return ("127.0.0.1", self.relay_port) if self.relay_port else (self.host, self.port)

    @property
    def link_tls(self) -> SourceTls | None:
        """The TLS files a direct connection uses (None: plain, or the relay does the TLS)."""
        return None if self.relay_port else self.tls

    def client(self) -> redis.Redis:
        host, port = self.address
        if self.link_tls is None:
            return redis.Redis(host=host, port=port, username=self.username, password=self.password,
                               socket_timeout=10)
        return redis.Redis(host=host, port=port, username=self.username, password=self.password,
                           socket_timeout=10, ssl=True, ssl_ca_certs=str(self.tls.ca_file),
                           ssl_certfile=str(self.tls.cert_file), ssl_keyfile=str(self.tls.key_file))

    @classmethod
    def from_uri(cls, uri: str, tls: SourceTls | None = None, *, tls_later: bool = False) -> Source:
        """`redis://[[default]:password@]host[:port][/db]`, or `rediss://` with `tls` (`tls_later`: a stored uri
        checked, its TLS files given when it is followed); ValueError saying what is wrong."""
        parsed = urllib.parse.urlsplit(uri)
        if parsed.scheme == "rediss" and tls is None and not tls_later:
            raise ValueError("a rediss:// uri needs serverCertSecret (the CA that signed the source's certificate)")
        if parsed.scheme not in ("redis", "rediss"):
            raise ValueError("the uri must start with redis:// or rediss://")
        if parsed.username not in (None, "", "default"):
            raise ValueError("the uri may name no user but `default` (the password is enough)")
        try:
            port = parsed.port or 6379
        except ValueError:
            raise ValueError("the uri's port is not a number from 1 to 65535") from None
        if not parsed.hostname:
            raise ValueError("the uri names no host")
        password = urllib.parse.unquote(parsed.password) if parsed.password else None
        return cls(host=parsed.hostname, port=port, password=password,
                   tls=tls if parsed.scheme == "rediss" else None)


def start_staging(binary: Path, folder: Path, *, detach: bool = False) -> tuple[subprocess.Popen | None, int, str]:
    """A private redis-server (loopback, no persistence, password in its 0600 config file) that is not a replica
    yet; returns (its process, or None when `detach`ed as a daemon that outlives this process; port; password)."""
    password = secrets.token_urlsafe(24)
    port = free_port()
    lines = [f"bind 127.0.0.1\nport {port}\ndir \"{folder}\"\nsave \"\"\nappendonly no\n",
             f'requirepass "{password}"\nlogfile "{folder / "staging.log"}"\nreplica-read-only yes\n']
    if detach:
        lines.append(f'daemonize yes\npidfile "{folder / "staging.pid"}"\n')
    config = folder / "staging.conf"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:  # passwords in a 0600 file, never on a command line
        handle.write("".join(lines))
    if detach:
        done = subprocess.run([str(binary), str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30, check=False)
        if done.returncode != 0:
            raise MigrationError(f"the staging replica did not start (exit {done.returncode}); see its log")
        return None, port, password
    return subprocess.Popen([str(binary), str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), \
        port, password


def follow(staging: redis.Redis, source: Source) -> None:
    """Make the staging server a replica of `source` (its password set over the connection, never a command
    line)."""
    configure_link(staging, source)
    staging.execute_command("REPLICAOF", *source.address)


def link_again(staging: redis.Redis, source: Source) -> None:
    """A replica of `source` already: load the current link settings (TLS files, login), then drop its link to
    the master so it links again with them (at once, a partial resync where the source still has the backlog)."""
    configure_link(staging, source)
    staging.execute_command("CLIENT", "KILL", "TYPE", "master")


def configure_link(staging: redis.Redis, source: Source) -> None:
    """The settings the replication link is made with; redis-server reads the TLS files here (a replaced file is
    taken only by the next CONFIG SET) and uses them, and `masterauth`, at its next connection."""
    tls = source.link_tls
    if tls is not None:
        staging.config_set("tls-cert-file", str(tls.cert_file))
        staging.config_set("tls-key-file", str(tls.key_file))
        staging.config_set("tls-ca-cert-file", str(tls.ca_file))
    staging.config_set("tls-replication", "yes" if tls is not None else "no")
    staging.config_set("masterauth", source.password or "")
    staging.config_set("masteruser", source.username or "")


def wait_in_sync(staging: redis.Redis, source: Source, process: subprocess.Popen | None = None,
                 timeout: float = SYNC_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not in_sync(staging):
        if process is not None and process.poll() is not None:
            raise MigrationError("the staging replica exited; see its log")
        if time.monotonic() > deadline:
            raise MigrationError(f"no full sync from {source.host}:{source.port} within {timeout:.0f}s "
                                 "(wrong address or password?)")
        time.sleep(0.1)


@contextlib.contextmanager
def staging_replica(source: Source, binary: Path, folder: Path) -> Iterator[redis.Redis]:
    """A throwaway redis-server replicating `source`, in sync when yielded (stopped on exit)."""
    process, port, password = start_staging(binary, folder)
    client = redis.Redis(port=port, password=password, socket_timeout=30)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                follow(client, source)
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise MigrationError("the staging replica did not start; see its log") from None
                time.sleep(0.05)
        wait_in_sync(client, source, process)
        yield client
    finally:
        stop_throwaway(process)
        client.close()


def in_sync(client: redis.Redis) -> bool:
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

