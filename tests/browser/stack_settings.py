"""Settings of the browser tests' live stack: the product's, with two Redis versions to upgrade between.

This machine has one redis-server; two version names for it let the upgrade flow run for real (the
local target restarts each process in turn), as the local target's own tests do. Throttles count in the
product's shared Redis cache (the stack's own Redis), as in production.
"""
from tests.settings import *  # noqa: F403  (the product's settings with test-only secrets)

CONTROLPLANE_LOCAL_REDIS_VERSIONS = {"7.0": "/usr/bin", "7.2": "/usr/bin"}

CACHES = {"default": shared_cache(cache_url(REDIS_URL))}  # noqa: F405
