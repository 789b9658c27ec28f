"""What a backup is in storage: one RDB file per shard and `manifest.json`, written last.

    <location>/<cluster>/<database>/<backup>/shard-<n>.rdb
    <location>/<cluster>/<database>/<backup>/manifest.json

The manifest names the database, its shards with their slot ranges, the Redis version, the time,
and each file's size and SHA-256; a restore verifies every checksum before it changes anything.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

FORMAT = 1
MANIFEST = "manifest.json"


class CorruptBackup(Exception):
    """A backup whose files do not match its manifest (or that has none): never restored."""


def backup_name(now: datetime) -> str:
    """A name that sorts by time: 20261127T133000123Z."""
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def shard_file(shard: int) -> str:
    return f"shard-{shard}.rdb"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def slot_ranges(slots: list[int]) -> list[list[int]]:
    """[0, 1, 2, 5] -> [[0, 2], [5, 5]]."""
    ranges: list[list[int]] = []
    for slot in sorted(slots):
        if ranges and slot == ranges[-1][1] + 1:
            ranges[-1][1] = slot
        else:
            ranges.append([slot, slot])
    return ranges


def build(*, name: str, cluster: str, database: str, version: str, time: datetime, shards: list[dict],
          files: dict[int, Path], duration: float) -> dict:
    """The manifest of captured files. `shards`: [{"shard", "slots", "source", "keys"}]."""
    entries = []
    for shard in shards:
        path = files[shard["shard"]]
        entries.append({**shard, "file": shard_file(shard["shard"]), "size": path.stat().st_size,
                        "sha256": sha256_of(path)})
    return {"format": FORMAT, "backup": name, "cluster": cluster, "database": database, "redisVersion": version,
            "time": time.isoformat(), "durationSeconds": round(duration, 3), "shards": entries,
            "size": sum(entry["size"] for entry in entries)}


def verify(manifest: object, folder: Path) -> dict:
    """The manifest, if every file it names is in `folder` with its size and checksum; else CorruptBackup."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
            manifest.get("shards"), list) or not manifest["shards"]:
        raise CorruptBackup("the manifest is missing or not one this control plane wrote")
    for entry in manifest["shards"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or "/" in entry["file"]:
            raise CorruptBackup("the manifest names a file it should not")
        path = folder / entry["file"]
        if not path.is_file():
            raise CorruptBackup(f"{entry['file']} is missing")
        if path.stat().st_size != entry.get("size") or sha256_of(path) != entry.get("sha256"):
            raise CorruptBackup(f"{entry['file']} does not match its checksum in the manifest (corrupted)")
    return manifest
