"""API errors are always JSON with field-level messages; never an HTML page or a traceback.

Every error response has one shape (documented in docs/api.md):

    {"detail": "<one-line summary>", "errors": {"<field path>": ["<message>", ...]}, "warnings": [...]}

`errors` is empty when no particular field is at fault (401, 403, 404, ...). The write path's
`SpecError` becomes 400 and `StaleGeneration` 409, both naming the field at fault; a write that
could not get the database's write lock in time is a 409 with `Retry-After`, never a 500. A SQL
database that cannot be reached (PostgreSQL restarting) is a 503 with `Retry-After`.
"""
from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import SpecError, StaleGeneration

log = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"


def error_body(detail: str, errors: dict[str, list[str]] | None = None, warnings: list[str] | None = None,
               **extra) -> dict:
    return {"detail": detail, "errors": errors or {}, "warnings": warnings or [], **extra}


class Conflict(APIException):
    """The request is valid but the object's current state forbids it (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None, **extra):
        super().__init__(detail)
        self.errors = errors or {}
        self.extra = extra


def flatten_errors(data, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as {"a.b": [messages]}; list-level messages go under the parent."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            path = prefix if key == NON_FIELD and prefix else (f"{prefix}.{key}" if prefix else str(key))
            for field, messages in flatten_errors(value, path).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        flat = {}
        for index, item in enumerate(data):
            for field, messages in flatten_errors(item, f"{prefix}[{index}]").items():
                flat.setdefault(field, []).extend(messages)
        return flat
    messages = data if isinstance(data, list) else [data]
    return {prefix or NON_FIELD: [str(m) for m in messages]}


def is_write_contention(exc: Exception) -> bool:
    """SQLite still locked after its busy timeout (settings: 30 s), or a PostgreSQL lock/serialization failure."""
    if isinstance(exc, OperationalError) and "database is locked" in str(exc):
        return True
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) in {"40001", "40P01", "55P03"}


def json_exception_handler(exc, context) -> Response:
    if isinstance(exc, SpecError):
        return Response(error_body("The request is invalid; nothing was changed.", exc.errors, exc.warnings),
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleGeneration):
        return Response(error_body(str(exc), {"generation": [str(exc)]}, currentGeneration=exc.actual),
                        status=status.HTTP_409_CONFLICT)
    if is_write_contention(exc):
        return Response(error_body("The database is busy with other writes; nothing was changed. Retry."),
                        status=status.HTTP_409_CONFLICT, headers={"Retry-After": "1"})
    if isinstance(exc, OperationalError | InterfaceError):
        log.warning("API request while the SQL database is unavailable: %s", exc)
        return Response(error_body("The control plane's database is unavailable; nothing was changed. "
                                   "Try again shortly."),
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    response = exception_handler(exc, context)
    if response is None:
        log.exception("unhandled API error", exc_info=exc)
        return Response(error_body("Internal error; the request changed nothing. See the server log."),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(exc, ValidationError):
        response.data = error_body("The request is invalid; nothing was changed.", flatten_errors(exc.detail))
    elif isinstance(exc, Conflict):
        response.data = error_body(str(exc.detail), exc.errors, **exc.extra)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = error_body(str(detail), getattr(exc, "errors", None))
    return response


def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """JSON 404 for any URL under /api/ that names no endpoint (hints at a missing trailing slash)."""
    detail = f"No API endpoint at {request.path}."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail += f" Did you mean {request.path}/ (with a trailing slash)?"
    return JsonResponse(error_body(detail), status=status.HTTP_404_NOT_FOUND)


def not_found(request: HttpRequest, exception: Exception | None = None):
    """Site-wide 404 handler: JSON for anything under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request: HttpRequest):
    """Site-wide 500 handler: JSON under /api/ (no traceback), the dashboard's 500.html elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("Internal error; the request changed nothing. See the server log."),
                            status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)
