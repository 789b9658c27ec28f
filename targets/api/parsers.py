"""Request bodies: bounded JSON, and REC/REDB YAML text (`POST /api/v1/apply/`).

Every body is read up to `settings.DATA_UPLOAD_MAX_MEMORY_SIZE` bytes; a longer one is refused
with 413 before it is parsed. JSON nested deeper than MAX_NESTING or holding numbers beyond a
float (1e400) is a 400, never a RecursionError or an infinity stored in a spec.
"""
from __future__ import annotations

import json

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

from targets.validation import MAX_NESTING, plain_data_problem


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    def __init__(self, limit: int):
        super().__init__(f"the request body is larger than the limit of {limit} bytes")
        self.errors = {"body": [str(self.detail)]}


class BadBody(ParseError):
    """A body that cannot be read, named as the field at fault."""

    def __init__(self, message: str):
        super().__init__(message)
        self.errors = {"body": [message]}


def read_bounded(stream, parser_context: dict | None) -> bytes:
    """The whole body, or BodyTooLarge once it passes the limit (whatever Content-Length claims)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if stream is None:
        return b""
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and str(declared).isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(limit)
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
        text = decode_text(read_bounded(stream, parser_context))
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise BadBody(f"JSON nested deeper than {MAX_NESTING} levels") from None
        except ValueError as exc:
            raise BadBody(f"not valid JSON: {exc}") from None
        problem = plain_data_problem(data)
        if problem:
            raise BadBody(f"JSON {problem}")
        return data


class YAMLTextParser(BaseParser):
    """Hands the view the raw YAML text: `targets.documents` parses it, reporting errors per document."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        return decode_text(read_bounded(stream, parser_context))


class XYAMLTextParser(YAMLTextParser):
    media_type = "application/x-yaml"


class TextYAMLParser(YAMLTextParser):
    media_type = "text/yaml"


class PlainTextParser(YAMLTextParser):
    media_type = "text/plain"
