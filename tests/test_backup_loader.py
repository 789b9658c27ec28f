"""Copying keys between real redis-servers: server to server with MIGRATE, and through the client when
MIGRATE is refused; TTLs kept either way."""
from __future__ import annotations

import pytest
import redis

from backups.loader import copy_keys

from .servers import redis_server


@pytest.mark.parametrize("password", ["dest-password", "wrong-password"])
def test_every_key_is_copied_with_its_ttl_by_migrate_or_by_the_fallback(password):
    with redis_server() as source_url, redis_server("--requirepass", "dest-password") as dest_url:
        source = redis.Redis.from_url(source_url)
        source.mset({f"k{i}": i for i in range(1200)})
        source.set("ttl", "x", ex=500)
        destination = redis.Redis.from_url(dest_url, password="dest-password")
        destination.set("k0", "old")
        assert copy_keys(source, destination, password=password) == 1201
        assert destination.dbsize() == 1201 and destination.get("k0") == b"0"  # replaced
        assert 0 < destination.ttl("ttl") <= 500
        assert source.dbsize() == 1201  # COPY: the source keeps its keys
