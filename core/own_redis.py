"""The control plane's own Redis (broker, channel layer, locks, figures): one client per URL and timeouts
per process, so every caller shares its connection pool."""
from __future__ import annotations

import redis
from django.conf import settings

_clients: dict[tuple[str, float, float], redis.Redis] = {}


def client(*, timeout: float, connect_timeout: float) -> redis.Redis:
    """A client to `settings.REDIS_URL` with these socket timeouts (seconds)."""
    key = (settings.REDIS_URL, timeout, connect_timeout)
    if key not in _clients:
        _clients[key] = redis.Redis.from_url(key[0], socket_timeout=timeout, socket_connect_timeout=connect_timeout)
    return _clients[key]
