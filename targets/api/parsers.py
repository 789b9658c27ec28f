"""Request bodies: bounded JSON, and REC/REDB YAML text (`POST /api/v1/apply/`).

A JSON body is read up to `settings.DATA_UPLOAD_MAX_MEMORY_SIZE` bytes, a YAML apply up to the apply
limit; a longer one is refused with 413 from its Content-Length before it is read, and reading stops one
byte past the limit whatever the header said. JSON nested deeper than MAX_NESTING or holding numbers
beyond a float (1e400) is a 400, never a RecursionError or an infinity stored in a spec.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

from core.validation import MAX_NESTING, plain_data_problem


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, message: str):
        super().__init__(message)
        self.errors = {"body": [message]}


class BadBody(ParseError):
    """A body that cannot be read, named as the field at fault."""

    def __init__(self, message: str):
        super().__init__(message)
        self.errors = {"body": [message]}


def too_large(size: int | str, limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"The body is {size} bytes; one apply takes at most {limit} bytes. Split the file; "
                        "nothing was applied.")


def json_too_large(size: int | str, limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the request body is larger than the limit of {limit} bytes")


def read_bounded(stream, parser_context: dict | None, limit: int,
                 refuse: Callable[[int | str, int], BodyTooLarge]) -> bytes:
    """The whole body, or `refuse(...)` once it passes `limit`."""
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and str(declared).isdigit() and int(declared) > limit:
        raise refuse(declared, limit)
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise refuse(f"more than {limit}", limit)
    return body


def decode_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not UTF-8 text: {exc}") from exc


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class BoundedJSONParser(BaseParser):
    """JSON with a size limit (413) and a nesting limit (400)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = read_bounded(stream, parser_context, settings.DATA_UPLOAD_MAX_MEMORY_SIZE, json_too_large)
        try:
            data = json.loads(decode_text(body), parse_constant=_refuse_constant)
        except RecursionError:
            raise BadBody(f"JSON nested deeper than {MAX_NESTING} levels") from None
        except ValueError as exc:
            raise BadBody(f"not valid JSON: {exc}") from None
        problem = plain_data_problem(data)
        if problem:
            raise BadBody(f"JSON {problem}")
        return data


class YAMLTextParser(BaseParser):
    """Hands the view the raw YAML text: `manifests.documents` parses it, reporting errors per document."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        limit = settings.CONTROLPLANE_APPLY_LIMITS["max_bytes"]
        return decode_text(read_bounded(stream, parser_context, limit, too_large))


class XYAMLTextParser(YAMLTextParser):
    media_type = "application/x-yaml"


class TextYAMLParser(YAMLTextParser):
    media_type = "text/yaml"


class PlainTextParser(YAMLTextParser):
    media_type = "text/plain"
