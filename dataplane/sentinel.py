"""Talking to a cluster's sentinels as both targets do: registering a database, asking who its master
is, asking for a switchover.

The sentinels are the one authority that picks a master; the control plane only tells them what to
watch. How a sentinel is reached differs per target: `monitor` takes a connection the caller owns;
`master_address` and `failover` take the members and a `connect(member)` function, and close what
they open. Callers turn failures into their own error.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import redis

Member = TypeVar("Member")


def monitor(sentinel: redis.Redis, name: str, host: str, port: int, *, quorum: int, password: str,
            down_after_ms: int, failover_timeout_ms: int, username: str | None = None) -> bool:
    """Make one sentinel watch `name` at host:port; True when it starts to now.

    A sentinel already watching keeps the master it tracks (it follows failovers itself) and only
    gets the quorum the cluster has now (the node count may have changed).
    """
    try:
        known = sentinel.sentinel_master(name)
    except redis.ResponseError:  # "No such master with that name"
        known = None
    if known:
        if int(known.get("quorum", quorum)) != quorum:
            sentinel.sentinel_set(name, "quorum", quorum)
        return False
    sentinel.sentinel_monitor(name, host, port, quorum)
    if username:  # an ACL user (the default user is off)
        sentinel.sentinel_set(name, "auth-user", username)
    for option, value in (("auth-pass", password), ("down-after-milliseconds", down_after_ms),
                          ("failover-timeout", failover_timeout_ms), ("parallel-syncs", 1)):
        sentinel.sentinel_set(name, option, value)
    return True


def _connections(members: Iterable[Member], connect: Callable[[Member], redis.Redis]) -> Iterator[redis.Redis]:
    """A connection to each member in turn, closed after use; a member that cannot be reached is skipped."""
    for member in members:
        try:
            connection = connect(member)
        except redis.RedisError:
            continue
        try:
            yield connection
        finally:
            connection.close()


def master_address(members: Iterable[Member], connect: Callable[[Member], redis.Redis],
                   name: str) -> tuple[str, int] | None:
    """`name`'s master (host, port) as most of the sentinels that answer report it; None if none knows it."""
    votes: Counter[tuple[str, int]] = Counter()
    for sentinel in _connections(members, connect):
        try:
            address = sentinel.sentinel_get_master_addr_by_name(name)
        except redis.RedisError:
            continue
        if address:
            votes[str(address[0]), int(address[1])] += 1
    return votes.most_common(1)[0][0] if votes else None


def failover(members: Iterable[Member], connect: Callable[[Member], redis.Redis], name: str) -> str:
    """Ask the sentinels in turn to switch `name`'s master over to a replica (they pick which): "" once one
    accepts or is already on it (INPROG), else why not (a sentinel's refusal, e.g. NOGOODSLAVE, first)."""
    refusal, unreachable = "", "no sentinel answers"
    for sentinel in _connections(members, connect):
        try:
            sentinel.execute_command("SENTINEL", "FAILOVER", name)
            return ""
        except redis.ResponseError as exc:
            if "INPROG" in str(exc):
                return ""
            refusal = refusal or str(exc)
        except redis.RedisError as exc:
            unreachable = str(exc)
    return refusal or unreachable
