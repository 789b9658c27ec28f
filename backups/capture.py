"""Copying one shard's RDB: `redis-cli --rdb` against the source process (a replica when one is in sync,
so the master is not forked). The password goes through REDISCLI_AUTH, never the command line."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import redis

CAPTURE_TIMEOUT_SECONDS = 600


class CaptureError(Exception):
    pass


def dump_rdb(port: int, password: str, destination: Path, *, host: str = "127.0.0.1",
             username: str | None = None) -> int:
    """Write the source's RDB to `destination` (0600); returns the keys the source held when it started."""
    cli = shutil.which("redis-cli") or shutil.which("valkey-cli")
    if cli is None:
        raise CaptureError("redis-cli is not installed (Debian package redis-tools)")
    keys = int(redis.Redis(host=host, port=port, username=username, password=password, socket_timeout=10).dbsize())
    env = {**os.environ, "REDISCLI_AUTH": password}
    old_umask = os.umask(0o077)
    try:
        user = ["--user", username] if username else []  # a name, not a secret: the password stays in the env
        result = subprocess.run([cli, "-h", host, "-p", str(port), *user, "--no-auth-warning", "--rdb",
                                 str(destination)],
                                env=env, capture_output=True, text=True, timeout=CAPTURE_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise CaptureError(f"copying the RDB from port {port} took over {CAPTURE_TIMEOUT_SECONDS}s") from None
    finally:
        os.umask(old_umask)
    if result.returncode != 0 or not destination.is_file() or destination.stat().st_size == 0:
        reason = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no file written"]
        raise CaptureError(f"copying the RDB from port {port} failed: {reason[0]}")
    os.chmod(destination, 0o600)
    return keys
