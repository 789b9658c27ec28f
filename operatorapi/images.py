"""Image tags of the Redis Enterprise operator's REC, and what they mean here."""
from __future__ import annotations

import re

# Redis Enterprise Software versions: major.minor.patch-build, e.g. 7.8.6-13, or the OpenShift
# images' 8.0.20-44.23. Redis (open source) versions, which this control plane runs, have no build part.
_ENTERPRISE_VERSION = re.compile(r"^\d+\.\d+\.\d+-\d+([.\-][0-9A-Za-z.\-]*)?$")


def is_enterprise_version(tag: object) -> bool:
    """True if `tag` is a Redis Enterprise Software image tag rather than a Redis version."""
    return isinstance(tag, str) and bool(_ENTERPRISE_VERSION.match(tag))


# An image repository (optionally with a registry host and port), without tag or digest:
# registry.example.com:5000/mirror/redis, redis, bitnami/kubectl.
_COMPONENT = r"[a-z0-9]+([._-][a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^([a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?/)?{_COMPONENT}(/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def repository_problem(value: str) -> str | None:
    if len(value) > 255 or not _REPOSITORY.match(value):
        return ("must be an image repository without tag or digest, e.g. registry.example.com/mirror/redis "
                "(lowercase; a registry host and port may lead)")
    return None


def tag_problem(value: str) -> str | None:
    return None if _TAG.match(value) else "must be an image tag (letters, digits, '_', '.', '-'; at most 128)"


def digest_problem(value: str) -> str | None:
    return None if _DIGEST.match(value) else "must be an image digest: sha256: and 64 lowercase hex digits"


def reference(repository: str, tag: str | None = None, digest: str | None = None) -> str:
    """`repository[:tag][@digest]`: with a digest the runtime pulls exactly that image (the tag is informative)."""
    return repository + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
