"""Optimistic concurrency for API writes: which generation a change was based on."""
from __future__ import annotations

import re

from core.errors import SpecError

# A generation is a positive 64-bit integer: at most 18 digits keeps it in range.
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def etag(generation: int) -> str:
    return f'"{generation}"'


def expected_generation(request, body_generation: int | None) -> int | None:
    """The generation from the body, else from `If-Match: "<generation>"`; None when neither is given."""
    if body_generation is not None:
        return body_generation
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if match is None:
        shown = header if len(header) <= 40 else header[:40] + "..."
        raise SpecError({"If-Match": [f'expected the generation as an ETag, e.g. If-Match: "3"; got {shown!r}.']})
    return int(match.group(1))
