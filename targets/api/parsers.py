"""Request bodies that are REC/REDB YAML text (`POST /api/v1/apply/`)."""
from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class YAMLTextParser(BaseParser):
    """Hands the view the raw YAML text: `manifests.documents` parses it, reporting errors per document."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        try:
            return stream.read().decode("utf-8") if stream is not None else ""
        except UnicodeDecodeError as exc:
            raise ParseError(f"the body is not UTF-8 text: {exc}") from exc


class XYAMLTextParser(YAMLTextParser):
    media_type = "application/x-yaml"


class TextYAMLParser(YAMLTextParser):
    media_type = "text/yaml"


class PlainTextParser(YAMLTextParser):
    media_type = "text/plain"
