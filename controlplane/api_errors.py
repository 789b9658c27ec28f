"""API errors are always JSON with field-level messages; never an HTML page or a traceback."""
import logging

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

log = logging.getLogger(__name__)


def json_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None:
        return response
    log.exception("unhandled API error", exc_info=exc)
    return Response({"detail": "Internal error; the request changed nothing. See the server log."},
                    status=status.HTTP_500_INTERNAL_SERVER_ERROR)
