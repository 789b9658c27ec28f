"""Redis versions a Kubernetes target offers: stock `redis` image tags."""
from __future__ import annotations

from django.conf import settings

from targets.engines import default_version


def available_versions(target) -> list[str]:
    """Oldest first; a target's `settings["redis_versions"]` overrides the site-wide list."""
    configured = (getattr(target, "settings", None) or {}).get("redis_versions")
    return list(configured or settings.CONTROLPLANE_KUBERNETES_REDIS_VERSIONS)


def resolve_version(requested: str | None, target) -> str:
    """The version to run: the requested one, or the target's newest Redis."""
    return requested or default_version(available_versions(target))
