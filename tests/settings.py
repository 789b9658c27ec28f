"""Settings of the test suite: the product's, with test-only secrets.

DEBUG stays off (as in production), so the product's settings insist on real-looking secrets; these
are set in the environment before the product's settings load, so processes the tests start (Daphne,
Celery, `manage.py`) inherit them.
"""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("CONTROLPLANE_ENCRYPTION_KEYS", "dGVzdHMtb25seS1lbmNyeXB0aW9uLWtleS0wMTIzNDU=")

from controlplane.settings import *  # noqa: E402, F403

# In-process tests count throttles in the test process's memory (each test starts with none:
# tests/conftest.py::fresh_throttles) and need no Redis for it; live stacks (tests/browser/stack_settings.py)
# count in the product's shared Redis cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}

# Foreground waits (`reconcile --wait`, `recover`, `restore`, also in the live stacks' manage.py) look again
# after 0.2 s, not 1 s: what they wait for is local and quick here.
CONTROLPLANE_WAIT_INTERVAL = 0.2
