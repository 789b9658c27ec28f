"""Whether a `replicaSources` follower's replication link is the one wanted, and the one move that makes it so.
Pure: following.py reads INFO replication and the recorded link, and carries the move out.

A follower that replicates the right address may still hold the wrong link settings: redis-server reads its TLS
files (`tls-ca-cert-file`, ...) when they are CONFIG SET and its `masterauth` when it connects, so a source whose
certificate (or CA) or password was replaced keeps the old link until a disconnect, and then cannot link again.
So the link is recorded as fingerprints (of the certificates, and a keyed digest of the login, never a key or
password itself) beside the follower's state, and a change at the same address makes the follower link again.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

KEEP, LINK, RELINK = "keep", "link", "relink"
TLS, LOGIN = "TLS certificates", "login"


@dataclass(frozen=True)
class LinkSettings:
    """What the follower links with: the source's address, a fingerprint of the TLS material ('' without TLS)
    and a keyed digest of the login."""
    host: str
    port: int
    tls: str
    login: str

    def recorded(self) -> dict:
        """The form kept in the follower's 0600 state file."""
        return {"host": self.host, "port": self.port, "tls": self.tls, "login": self.login}


@dataclass(frozen=True)
class LinkMove:
    action: str  # KEEP: nothing to do; LINK: settings, then REPLICAOF; RELINK: settings, then link again
    changed: tuple[str, ...] = ()  # RELINK: what changed at the same address (TLS, LOGIN), () when unrecorded


def tls_fingerprint(*pems: str) -> str:
    """SHA-256 of the certificates a TLS link trusts and presents (public material: the key matches the
    certificate, so a new key comes with a new certificate); '' for a plain link."""
    if not any(pems):
        return ""
    return hashlib.sha256("\0".join(pems).encode()).hexdigest()


def login_digest(username: str | None, password: str | None, key: str) -> str:
    """HMAC-SHA256 of the login under `key` (the follower's own random password): equal logins compare equal,
    and the state file says nothing about the password."""
    return hmac.new(key.encode(), f"{username or ''}\0{password or ''}".encode(), hashlib.sha256).hexdigest()


def plan_link(replication: dict, recorded: dict | None, wanted: LinkSettings) -> LinkMove:
    """The move for a follower whose INFO replication is `replication` and whose last link was `recorded`
    (None: not recorded, e.g. linked before the record existed)."""
    linked = (str(replication.get("master_host", "")), int(replication.get("master_port", 0) or 0))
    if replication.get("role") != "slave" or linked != (wanted.host, wanted.port):
        return LinkMove(LINK)
    if not isinstance(recorded, dict) or (recorded.get("host"), recorded.get("port")) != linked:
        return LinkMove(RELINK)  # settings unknown: link once more with the wanted ones
    changed = tuple(what for what, key in ((TLS, "tls"), (LOGIN, "login")) if recorded.get(key) != getattr(wanted, key))
    return LinkMove(RELINK, changed) if changed else LinkMove(KEEP)
