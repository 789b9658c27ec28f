"""`metadata.labels` and `metadata.annotations` of a REC/REDB: standard Kubernetes metadata, kept as given.

They are stored with the object, returned by `get -o yaml` and the API, and checked by the rules
the Kubernetes API server applies, so whatever is accepted here can be put on the custom resource.
Changing them is not a spec change: `generation` stays (`targets.writes.store_metadata`).
"""
from __future__ import annotations

import re

from core.validation import Problems, dns_subdomain_problem, expect_mapping

LABEL_VALUE_MAX = 63
NAME_MAX = 63
ANNOTATIONS_MAX_BYTES = 256 * 1024
_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
# Annotations the control plane itself sets on what it writes back (e.g. the REC's target); not stored.
RESERVED_PREFIX = "redis-controlplane.io/"
KEYS = ("labels", "annotations")


def key_problem(key: object) -> str | None:
    """Why `key` is not a qualified name (`[prefix/]name`, the rule for label and annotation keys), or None."""
    if not isinstance(key, str) or not key:
        return "keys must be non-empty strings"
    prefix, _, name = key.rpartition("/")
    if prefix and dns_subdomain_problem(prefix):
        return f"the prefix of {key!r} must be a DNS-1123 subdomain"
    if len(name) > NAME_MAX or not _NAME.match(name):
        return (f"{key!r} is not a valid key: at most {NAME_MAX} characters of letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit, after an optional DNS subdomain prefix and '/'")
    return None


def checked_metadata(metadata: dict, path: str = "metadata") -> dict[str, dict[str, str]]:
    """The labels and annotations of `metadata` (only the keys it has) if Kubernetes would accept them;
    else SpecError with a problem per key. Reserved control-plane annotations are dropped."""
    problems = Problems()
    checked: dict[str, dict[str, str]] = {}
    for part in KEYS:
        if part not in metadata:
            continue
        mapping = expect_mapping(problems, metadata[part] if metadata[part] is not None else {}, f"{path}.{part}")
        if mapping is None:
            continue
        for key, value in mapping.items():
            where = f"{path}.{part}.{key}"
            problem = key_problem(key)
            if problem:
                problems.add(where, problem)
            elif not isinstance(value, str):
                problems.add(where, "must be a string")
            elif part == "labels" and value and (len(value) > LABEL_VALUE_MAX or not _NAME.match(value)):
                problems.add(where, f"a label value is at most {LABEL_VALUE_MAX} characters of letters, digits, "
                                    "'-', '_' and '.', starting and ending with a letter or digit")
        if part == "annotations":
            size = sum(len(str(k)) + len(str(v)) for k, v in mapping.items())
            if size > ANNOTATIONS_MAX_BYTES:
                problems.add(f"{path}.annotations", f"must be at most {ANNOTATIONS_MAX_BYTES} bytes in total")
        checked[part] = {k: v for k, v in mapping.items() if not str(k).startswith(RESERVED_PREFIX)}
    problems.raise_if_any()
    return checked
