"""The sign-in page's answer to a locked-out username or address (django-axes' AXES_LOCKOUT_CALLABLE)."""
from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_message(minutes: float) -> str:
    return (f"Too many failed sign-ins for this user or from this address. Sign-in is locked for "
            f"{minutes:g} minutes after the last failed attempt; try again later or ask an administrator "
            f"to unlock it.")


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict | None = None) -> HttpResponse:
    """The login form again, with the lockout message instead of a password error: 429 and Retry-After."""
    cool_off = get_cool_off(request)
    seconds = math.ceil(cool_off.total_seconds()) if cool_off else 0
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")})
    response = render(request, "frontend/login.html",
                      {"form": form, "next": request.POST.get("next", ""), "lockout": lockout_message(seconds / 60)},
                      status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
