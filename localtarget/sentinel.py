"""Talking to a cluster's quorum members (redis-sentinel): the only authority that picks a master."""
from __future__ import annotations

import redis

from core.errors import TargetError
from dataplane.sentinel import failover as sentinel_failover
from dataplane.sentinel import master_address, monitor

from .layout import SENTINEL_DOWN_AFTER_MS, SENTINEL_FAILOVER_TIMEOUT_MS, Process
from .processes import client, configured_password


def _client(sentinel: Process, *, timeout: float = 5.0) -> redis.Redis:
    """A connection to a quorum member with the password it runs with (its config file's requirepass: the
    wanted one, or none while a member from before sentinels had passwords waits for its restart)."""
    return client(sentinel.port, configured_password(sentinel), timeout=timeout)


def answering(sentinels: list[Process]) -> list[Process]:
    alive = []
    for sentinel in sentinels:
        try:
            if _client(sentinel, timeout=1).ping():
                alive.append(sentinel)
        except redis.RedisError:
            pass
    return alive


def monitored(sentinel: Process) -> dict[str, dict]:
    """{master name: SENTINEL MASTERS entry} as one sentinel sees it."""
    try:
        return {m["name"]: m for m in _client(sentinel, timeout=2).sentinel_masters().values()}
    except redis.RedisError:
        return {}


def register(sentinels: list[Process], name: str, master_port: int, quorum: int, password: str, *,
             username: str | None = None) -> list[str]:
    """Make every answering sentinel monitor `name`; returns the sentinels that newly started to."""
    added = []
    for sentinel in answering(sentinels):
        try:
            if monitor(_client(sentinel), name, "127.0.0.1", master_port, quorum=quorum, password=password,
                       down_after_ms=SENTINEL_DOWN_AFTER_MS, failover_timeout_ms=SENTINEL_FAILOVER_TIMEOUT_MS,
                       username=username):
                added.append(sentinel.name)
        except redis.RedisError as exc:
            raise TargetError(f"{sentinel.name} refused to monitor {name}: {exc}") from exc
    return added


def set_password(sentinels: list[Process], name: str, password: str, *, username: str | None = None) -> None:
    """Password rotation: sentinels must use the new password (and user, "" for default) to reach the shard."""
    for sentinel in answering(sentinels):
        if name in monitored(sentinel):
            try:
                _client(sentinel).sentinel_set(name, "auth-user", username or "")
                _client(sentinel).sentinel_set(name, "auth-pass", password)
            except redis.RedisError as exc:
                raise TargetError(f"{sentinel.name} refused the new auth-pass for {name}: {exc}") from exc


def unregister(sentinels: list[Process], name: str) -> list[str]:
    """Make every answering sentinel forget `name`; returns those that watched it."""
    removed = []
    for sentinel in answering(sentinels):
        if name in monitored(sentinel):
            try:
                _client(sentinel).sentinel_remove(name)
            except redis.RedisError as exc:
                raise TargetError(f"{sentinel.name} refused to forget {name}: {exc}") from exc
            removed.append(sentinel.name)
    return removed


def _connect(sentinel: Process) -> redis.Redis:
    return _client(sentinel, timeout=1)


def master_port(sentinels: list[Process], name: str) -> int | None:
    """The port of `name`'s master as most answering sentinels see it (None if nobody monitors it)."""
    address = master_address(sentinels, _connect, name)
    return address[1] if address else None


def ckquorum(sentinels: list[Process], name: str) -> tuple[bool, str]:
    """SENTINEL CKQUORUM from the first sentinel that answers: can a failover of `name` be authorised?"""
    for sentinel in answering(sentinels):
        try:
            reply = _client(sentinel, timeout=2).execute_command("SENTINEL", "CKQUORUM", name)
            return True, str(reply)
        except redis.ResponseError as exc:
            return False, str(exc)
        except redis.RedisError:
            continue
    return False, "no sentinel answers"


def failover(sentinels: list[Process], name: str) -> None:
    """A planned switchover: ask the sentinels to promote a replica (SENTINEL FAILOVER)."""
    refusal = sentinel_failover(sentinels, _connect, name)
    if refusal:
        raise TargetError(f"the sentinels refused the switchover of {name}: {refusal}")


def reset(sentinels: list[Process]) -> None:
    """Forget departed sentinels and replicas (after scaling the quorum down)."""
    for sentinel in answering(sentinels):
        try:
            _client(sentinel).execute_command("SENTINEL", "RESET", "*")
        except redis.RedisError as exc:
            raise TargetError(f"{sentinel.name} refused SENTINEL RESET: {exc}") from exc


def failover_ready(sentinels: list[Process], name: str, quorum: int) -> tuple[bool, str]:
    """Whether the sentinels could fail `name` over now: they know a replica and each other (CKQUORUM)."""
    views = [monitored(s).get(name) for s in answering(sentinels)]
    views = [v for v in views if v]
    if len(views) < quorum:
        return False, f"{len(views)} sentinel(s) watch the database; {quorum} needed"
    if not all(int(v.get("num-slaves", 0)) >= 1 for v in views):
        return False, "the sentinels have not discovered the replica yet"
    ok, message = ckquorum(sentinels, name)
    return ok, message
