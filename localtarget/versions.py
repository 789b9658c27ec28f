"""Which Redis binaries this machine offers, as {version: directory holding redis-server}.

`settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS` lists them explicitly (two versions may point at the
same directory, which is how the tests exercise rolling upgrades on a machine with one binary);
when it is empty, the `redis-server` on PATH is offered as its major.minor version.
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings


@functools.lru_cache(maxsize=8)
def _detect(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    match = re.search(r"v=(\d+)\.(\d+)", out)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", version))


def available_versions() -> dict[str, Path]:
    """{version: bin directory}, oldest first."""
    configured = dict(getattr(settings, "CONTROLPLANE_LOCAL_REDIS_VERSIONS", {}) or {})
    if not configured:
        binary = shutil.which("redis-server")
        version = _detect(binary) if binary else None
        if version:
            configured = {version: str(Path(binary).parent)}
    return {v: Path(configured[v]) for v in sorted(configured, key=_version_key)}


def newest_version() -> str | None:
    versions = list(available_versions())
    return versions[-1] if versions else None


def server_binary(version: str) -> Path:
    return available_versions()[version] / "redis-server"


def sentinel_binary(version: str) -> Path:
    """redis-sentinel of that version; redis-server in sentinel mode when only the server is there."""
    directory = available_versions()[version]
    candidate = directory / "redis-sentinel"
    return candidate if candidate.exists() else directory / "redis-server"
