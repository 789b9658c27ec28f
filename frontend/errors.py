"""A friendly page for an unexpected error in a dashboard page, in DEBUG too.

Django shows its debug page (settings, a traceback, local variables) for any unhandled exception
when DEBUG is on, which `make run` turns on; a dashboard user must never see that. The API answers
JSON errors itself (targets/api/errors.py) and the admin is Django's, so both are left alone.
"""
from __future__ import annotations

import logging
import secrets

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

log = logging.getLogger("django.request")

NOT_DASHBOARD = ("/api/", "/admin/")
# Exceptions Django turns into their own 4xx pages (404, 403.html, 400): not errors of ours.
HANDLED_BY_DJANGO = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)


class FriendlyServerErrors:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith(NOT_DASHBOARD) or isinstance(exception, HANDLED_BY_DJANGO):
            return None
        error_id = secrets.token_hex(4)
        log.error("dashboard error %s on %s %s", error_id, request.method, request.path, exc_info=exception)
        return HttpResponse(render_to_string("500.html", {"error_id": error_id}, request=request), status=500)
