"""Change history for watches and paginated lists.

The API server keeps a window of recent changes (etcd's compaction history). A watch from a
resourceVersion inside the window replays the changes after it; one from before the window gets
`410 Gone` (an `ERROR` event with reason `Expired`), as does a `continue` token of a list whose
resourceVersion fell out of the window. Bookmarks (`allowWatchBookmarks=true`) carry only a
resourceVersion so a client can resume from it without replaying.
"""
from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import deque
from dataclasses import dataclass

from .emulator_api import ApiError

Key = tuple[str, str, str, str]


@dataclass
class Change:
    version: int
    type: str  # ADDED | MODIFIED | DELETED
    key: Key
    obj: dict  # the stored object itself: never changed in place once recorded
    before: dict | None  # what was stored before (MODIFIED, DELETED): selector watches and list snapshots


class ChangeLog:
    """The last `capacity` changes, and a condition watchers wait on."""

    def __init__(self, capacity: int = 10000) -> None:
        self.changes: deque[Change] = deque(maxlen=capacity)
        self.changed = threading.Condition()
        self.compacted = 0  # changes with a version up to this one are gone

    @property
    def latest(self) -> int:
        return self.changes[-1].version if self.changes else self.compacted

    def record(self, change: Change) -> None:
        with self.changed:
            if len(self.changes) == self.changes.maxlen:
                self.compacted = self.changes[0].version
            self.changes.append(change)
            self.changed.notify_all()

    def compact(self) -> None:
        """Forget every change so far (what etcd compaction does); older watches and tokens get 410."""
        with self.changed:
            self.compacted = self.latest
            self.changes.clear()

    def since(self, version: int, prefix: str, plural: str, namespace: str | None) -> tuple[list[Change], int]:
        """Changes of one resource after `version`, and the version they bring the watcher to."""
        with self.changed:
            if version < self.compacted:
                raise too_old(version, self.compacted)
            changes = list(self.changes)
            latest = max(version, self.latest)
        return [c for c in changes if c.version > version and c.key[:2] == (prefix, plural)
                and (namespace is None or c.key[2] == namespace)], latest


def snapshot(log: ChangeLog, version: int, prefix: str, plural: str,
             current: dict[tuple[str, str], dict]) -> dict[tuple[str, str], dict]:
    """The objects of one resource as they were at `version` (what a `continue` token lists), or 410."""
    with log.changed:
        if version < log.compacted:
            raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent "
                           "list result. You can start a new list without the continue parameter.")
        changes = [c for c in log.changes if c.version > version and c.key[:2] == (prefix, plural)]
    state = dict(current)
    for change in reversed(changes):
        if change.before is None:
            state.pop(change.key[2:], None)
        else:
            state[change.key[2:]] = change.before
    return state


def too_old(version: int, current: int) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {version} ({current})")


def encode_continue(version: str, last: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(version), "start": "/".join(last) + "\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, name = data["start"].rstrip("\x00").split("/", 1)
        return int(data["rv"]), (namespace, name)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ApiError(400, "BadRequest", f"continue key is not valid: {exc}") from exc


def event(change_type: str, obj: dict) -> bytes:
    return (json.dumps({"type": change_type, "object": obj}) + "\n").encode()


def bookmark(kind: str, api_version: str, version: int) -> bytes:
    return event("BOOKMARK", {"kind": kind, "apiVersion": api_version,
                              "metadata": {"resourceVersion": str(version)}})


def error_event(error: ApiError) -> bytes:
    return event("ERROR", error.status())


def visible(change: Change, match) -> tuple[str, dict] | None:
    """What a watcher with selector `match` (object -> bool) sees of a change (leaving it reads as DELETED)."""
    now = match(change.obj)
    was = change.before is not None and match(change.before)
    if change.type == "MODIFIED" and was and not now:
        return "DELETED", change.obj
    if change.type == "MODIFIED" and now and not was:
        return "ADDED", change.obj
    return (change.type, change.obj) if now else None
