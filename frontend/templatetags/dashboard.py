"""Template helpers of the dashboard: state badges, memory sizes, the live-update hooks."""
from __future__ import annotations

from django import template

from core.quantity import format_memory

register = template.Library()


@register.inclusion_tag("frontend/includes/badge.html")
def state_badge(view: dict) -> dict:
    """The state as symbol + word + colour; live.js rewrites the same markup on updates."""
    return {"view": view}


@register.inclusion_tag("frontend/includes/progress.html")
def progress(view: dict) -> dict:
    return {"view": view}


@register.filter
def memory(nbytes: int | None) -> str:
    return format_memory(int(nbytes)) if nbytes is not None else ""


@register.filter
def yes_no(value: bool) -> str:
    return "yes" if value else "no"
