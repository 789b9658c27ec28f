"""Throttles against guessing and scraping (docs/reliability.md).

Sign-ins are throttled by django-axes (settings `AXES_*`). Here: failed API token authentications per
client address, and credential reveals per user. Both are DRF throttles (rates in
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`), answered with 429, a Retry-After header and a message
that says when to retry.

The counts live in the shared cache (Redis, settings `CACHES`), so every web process enforces one limit.
When that cache cannot be reached a request goes on uncounted (logged): a Redis restart must not fail
every API request, and the limits are back as soon as it is.
"""
from __future__ import annotations

import logging
import math

from redis.exceptions import RedisError
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from .tokens import HashedTokenAuthentication

log = logging.getLogger(__name__)


def counts_unavailable(exc: Exception) -> None:
    log.warning("throttle counts unavailable, request not counted: %s", exc)


class TokenFailureThrottle(SimpleRateThrottle):
    """Counts failed token authentications of one client address; only failures are counted."""

    scope = "token_failures"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def blocked(self, request) -> bool:
        """True while the address has used up its failures (reading the count, not adding to it)."""
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        try:
            self.history = self.cache.get(self.key, [])
        except RedisError as exc:
            counts_unavailable(exc)
            self.history = []
            return False
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) >= self.num_requests

    def record_failure(self, request) -> None:
        self.blocked(request)
        self.history.insert(0, self.now)
        try:
            self.cache.set(self.key, self.history, self.duration)
        except RedisError as exc:
            counts_unavailable(exc)


def too_many(what: str, wait: float | None) -> Throttled:
    seconds = math.ceil(wait or 1)
    return Throttled(wait=seconds, detail=f"Too many {what}; try again in {seconds} s.")


class ThrottledTokenAuthentication(HashedTokenAuthentication):
    """Token authentication that refuses an address with too many recent failures (429).

    An address over the limit is refused even with a valid token, so trying tokens gains nothing.
    """

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION", "").strip().lower().startswith(self.keyword.lower()):
            return None
        throttle = TokenFailureThrottle()
        if throttle.blocked(request):
            raise too_many("failed token authentications from your address", throttle.wait())
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record_failure(request)
            raise


class CredentialsThrottle(UserRateThrottle):
    """Credential reveals per user, shared by the API endpoint and the dashboard's button."""

    scope = "credentials"

    def check(self, request) -> None:
        """Count one reveal; raise Throttled (429) when the user is over the rate."""
        try:
            allowed = self.allow_request(request, None)
        except RedisError as exc:
            counts_unavailable(exc)
            return
        if not allowed:
            raise too_many("credential reveals", self.wait())
