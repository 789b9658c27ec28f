"""API tokens: issued once in the clear, kept only as digests, checked on every API request.

Clients send `Authorization: Token <key>` (DRF's format). `manage.py create_token` and `make run`
issue tokens; nothing can print an existing one again.
"""
from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .models import ApiToken

KEY_BYTES = 20  # 40 hex characters, as DRF's tokens


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(user, *, replace: bool = False) -> str:
    """A new token for `user`; returns the raw key, which is stored nowhere. `replace` revokes the others."""
    key = secrets.token_hex(KEY_BYTES)
    with transaction.atomic():
        if replace:
            ApiToken.objects.filter(user=user).delete()
        ApiToken.objects.create(user=user, digest=token_digest(key), prefix=key[:8])
    return key


def token_is_valid(user, key: str) -> bool:
    return ApiToken.objects.filter(user=user, digest=token_digest(key)).exists()


class HashedTokenAuthentication(TokenAuthentication):
    """DRF's `Token <key>` header, checked against stored digests."""

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return token.user, token
