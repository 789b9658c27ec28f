"""Registering a database with a cluster's sentinels, as both targets do it, one sentinel at a time.

The sentinels are the one authority that picks a master; the control plane only tells them what to
watch. Callers own the connection (how a sentinel is reached differs per target) and turn a
`redis.RedisError` into their own error with the sentinel's name.
"""
from __future__ import annotations

import redis


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
