"""Request bodies that are REC/REDB YAML text (`POST /api/v1/apply/`)."""
from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

from .documents import apply_limits


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def too_large(size: int | str, limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"The body is {size} bytes; one apply takes at most {limit} bytes. Split the file; "
                        "nothing was applied.")


class YAMLTextParser(BaseParser):
    """Hands the view the raw YAML text: `manifests.documents` parses it, reporting errors per document.

    A body over the apply limit is refused (413) from its Content-Length before it is read, and reading
    stops one byte past the limit whatever the header said.
    """

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        limit = apply_limits()["max_bytes"]
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large(declared, limit)
        if stream is None:
            return ""
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise too_large(f"more than {limit}", limit)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"the body is not UTF-8 text: {exc}") from exc


class XYAMLTextParser(YAMLTextParser):
    media_type = "application/x-yaml"


class TextYAMLParser(YAMLTextParser):
    media_type = "text/yaml"


class PlainTextParser(YAMLTextParser):
    media_type = "text/plain"
