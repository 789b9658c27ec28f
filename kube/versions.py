"""Versions a Kubernetes target offers: stock `redis` image tags, `valkey-<tag>` for `valkey/valkey`,
and the `redis/redis-stack-server` tags that carry the modules (targets/modules.py)."""
from __future__ import annotations

from django.conf import settings

from core.engines import default_version, describe, number_of
from targets.modules import CATALOG
from targets.modules import module_problems as catalog_problems


def available_versions(target) -> list[str]:
    """Oldest first; a target's `settings["redis_versions"]` overrides the site-wide list."""
    configured = (getattr(target, "settings", None) or {}).get("redis_versions")
    return list(configured or settings.CONTROLPLANE_KUBERNETES_REDIS_VERSIONS)


def resolve_version(requested: str | None, target) -> str:
    """The version to run: the requested one, or the target's newest Redis."""
    return requested or default_version(available_versions(target))


def stack_tags(target) -> dict[str, str]:
    """{Redis version: redis-stack-server tag}; a target's `settings["redis_stack_tags"]` overrides the site's."""
    configured = (getattr(target, "settings", None) or {}).get("redis_stack_tags")
    return dict(configured or settings.CONTROLPLANE_KUBERNETES_REDIS_STACK_TAGS)


def module_problems(modules: list, version: str, target) -> dict[str, str]:
    """Field errors for `modulesList`: every module the stack image carries, for the versions it is tagged for."""
    if not modules:
        return {}
    tags = stack_tags(target)
    why = (f"modules need the redis-stack-server image, offered here for Redis {', '.join(tags) or 'no version'}; "
           f"this database runs {describe(version)}")
    return catalog_problems(modules, version=version, server_number=number_of(version),
                            offered=list(CATALOG) if version in tags else [], why_not=dict.fromkeys(CATALOG, why))
