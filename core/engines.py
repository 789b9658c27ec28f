"""Version names across the two engines a database can run. Pure.

`redisVersion` (and a cluster's `versionTag`) names a Redis version as the operator does ("7.0",
"7.2"), and a Valkey version with the engine in front: "valkey-9.1". Every Redis version sorts
before every Valkey version: Valkey loads the data files of Redis up to 7.2 (RDB 11) and replicates
from a Redis master, while no Redis loads what Valkey 9 writes. So an engine change goes one way,
Redis -> Valkey, and the "no downgrade" rule refuses the way back.
"""
from __future__ import annotations

import re

REDIS = "redis"
VALKEY = "valkey"
VALKEY_PREFIX = "valkey-"
_ENGINE_ORDER = {REDIS: 0, VALKEY: 1}


def engine_of(version: str) -> str:
    return VALKEY if str(version).startswith(VALKEY_PREFIX) else REDIS


def number_of(version: str) -> str:
    """The engine's own version number: "valkey-9.1" -> "9.1", "7.2" -> "7.2"."""
    return str(version).removeprefix(VALKEY_PREFIX)


def version_name(engine: str, number: str) -> str:
    return f"{VALKEY_PREFIX}{number}" if engine == VALKEY else number


def version_key(version: str) -> tuple:
    """Sort key: engine first (Redis before Valkey), then the numbers (6.2 < 7.2 < 7.4.1)."""
    parts = re.split(r"[.\-]", number_of(version))
    # A part of more than 9 digits sorts as text: int() of thousands of digits raises (and no version has them).
    numbers = tuple((0, int(p), "") if p.isdigit() and len(p) <= 9 else (1, 0, p) for p in parts)
    return (_ENGINE_ORDER[engine_of(version)], numbers)


def default_version(versions: list[str]) -> str | None:
    """What a new database or cluster runs when it names no version: the newest Redis (a move to
    Valkey is a choice a user makes, never a default), else the newest of what there is."""
    redis_versions = [v for v in versions if engine_of(v) == REDIS]
    ordered = sorted(redis_versions or versions, key=version_key)
    return ordered[-1] if ordered else None


def describe(version: str) -> str:
    """"Redis 7.2" / "Valkey 9.1", for messages and events."""
    return f"{engine_of(version).capitalize()} {number_of(version)}"
