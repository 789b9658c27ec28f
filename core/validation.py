"""Validation mechanics the cluster (REC) and database (REDB) validators share.

Each validator walks its spec with these checks and collects every problem at once in a
`Problems` (field path -> messages), so a user sees all mistakes in one answer. Rules that are
specific to a kind live in `clusters/validation.py` and `databases/validation.py`.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from core.errors import SpecError

from .engines import describe, engine_of, version_key
from .quantity import QuantityError, parse_memory

DNS_LABEL_MAX = 63
# A cluster or database name becomes a StatefulSet name; its pods carry the label
# `controller-revision-hash: <name>-<10 characters>`, and label values stop at 63.
OBJECT_NAME_MAX = DNS_LABEL_MAX - 11
DNS_SUBDOMAIN_MAX = 253
# Free-text fields (storage class, labels, versions ...) are short in every real spec.
STRING_MAX = 253
# How deeply a request body or YAML document may nest; real REC/REDB documents nest 5 levels.
MAX_NESTING = 32
MAX_CPU_CORES = 1024
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CPU = re.compile(r"^(\d{1,7})(\.\d{1,6})?(m?)$")


# Fields reported per write: a spec of 50000 unknown keys gets 50 messages and a count, not 50000 (nor
# 50000 typo searches).
MAX_REPORTED_FIELDS = 50
MORE = "more"


class FieldDefinition(Protocol):
    """What `FieldSet.defined` reads of an operator field definition (operatorapi.field.Field)."""

    def used(self) -> frozenset[str]: ...

    def unused(self) -> frozenset[str]: ...


class Problems:
    """Field-level errors and warnings found while checking one write."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.unreported = 0

    @property
    def full(self) -> bool:
        """True once further fields would go unreported (callers may skip costly checks)."""
        return len(self.errors) >= MAX_REPORTED_FIELDS

    def add(self, path: str, message: str) -> None:
        if path not in self.errors and self.full:
            self.unreported += 1
            self.errors[MORE] = [f"{self.unreported} more problems not shown"]
            return
        self.errors.setdefault(path, []).append(message)

    def warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < MAX_REPORTED_FIELDS:
            self.warnings.append(message)

    def has(self, path: str) -> bool:
        """True if `path` or anything below it has an error."""
        return any(key == path or key.startswith(path + ".") or key.startswith(path + "[") for key in self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecError(self.errors, self.warnings)

    def as_messages(self) -> list[str]:
        """`path: message` lines, for the reconciler's `Invalid` status."""
        return [f"{path}: {message}" for path, messages in self.errors.items() for message in messages]


@dataclass(frozen=True)
class FieldSet:
    """The fields one object of a spec may carry.

    `used` are the fields this control plane acts on; `unused` are fields the Redis Enterprise
    operator defines that have no meaning here: accepted, with a warning. Anything else is a typo.
    """
    used: frozenset[str]
    unused: frozenset[str] = frozenset()

    @classmethod
    def of(cls, used: Iterable[str], unused: Iterable[str] = ()) -> FieldSet:
        return cls(frozenset(used), frozenset(unused))

    @classmethod
    def defined(cls, field: FieldDefinition, legacy: Iterable[str] = ()) -> FieldSet:
        """The fields the operator defines under `field` (operatorapi/), by their support level here."""
        return cls(field.used(), field.unused() | frozenset(legacy))


@dataclass(frozen=True)
class Checked:
    """A spec that passed validation, with the defaults filled in, and the warnings about it."""
    spec: dict
    warnings: list[str]


def unused_field_warning(path: str) -> str:
    return (f"{path}: accepted but not used; it is a Redis Enterprise operator field this control plane "
            "has no use for")


def check_fields(problems: Problems, data: dict, fields: FieldSet, path: str) -> None:
    """Warn about operator fields without use here; error on unknown ones, suggesting the likely name."""
    for key in data:
        if key in fields.used:
            continue
        if key in fields.unused:
            problems.warn(unused_field_warning(f"{path}.{key}"))
            continue
        if problems.full:
            problems.add(f"{path}.{key}", f"unknown field '{key}'")
            continue
        problems.add(f"{path}.{key}", unknown_field_message(key, fields.used | fields.unused))


def unknown_field_message(key: object, known: Iterable[str]) -> str:
    """The message for an unknown field, suggesting the likely name."""
    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown field '{key}'{hint}"


def dns_label_problem(value: object, *, what: str = "name") -> str | None:
    """Why `value` is not a DNS-1123 label (the rule Kubernetes applies to names), or None."""
    if not isinstance(value, str) or not value:
        return f"{what} is required"
    if len(value) > DNS_LABEL_MAX:
        return f"must be at most {DNS_LABEL_MAX} characters (it has {len(value)})"
    if not _DNS_LABEL.match(value):
        return ("must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending "
                "with a letter or digit")
    return None


def object_name_problem(value: object) -> str | None:
    """Why `value` cannot name a cluster or database (a DNS-1123 label short enough for every object
    Kubernetes derives from it), or None."""
    problem = dns_label_problem(value)
    if problem is None and len(value) > OBJECT_NAME_MAX:
        problem = (f"must be at most {OBJECT_NAME_MAX} characters (it has {len(value)}): Kubernetes derives "
                   "longer names and labels from it")
    return problem


def dns_subdomain_problem(value: object) -> str | None:
    """Why `value` is not a DNS-1123 subdomain (Secret names), or None."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > DNS_SUBDOMAIN_MAX:
        return f"must be at most {DNS_SUBDOMAIN_MAX} characters"
    if not all(_DNS_LABEL.match(part) for part in value.split(".")):
        return "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.'"
    return None


def _expect_type(problems: Problems, value: object, path: str, kind: type, message: str):
    """`value` if it is a `kind`; None if absent, or (with `message` at `path`) if it is something else."""
    if value is None:
        return None
    if not isinstance(value, kind):
        problems.add(path, message)
        return None
    return value


def expect_mapping(problems: Problems, value: object, path: str) -> dict | None:
    return _expect_type(problems, value, path, dict, "must be an object (a mapping of fields)")


def expect_list(problems: Problems, value: object, path: str) -> list | None:
    return _expect_type(problems, value, path, list, "must be a list")


def expect_bool(problems: Problems, value: object, path: str) -> bool | None:
    return _expect_type(problems, value, path, bool, "must be true or false")


def expect_int(problems: Problems, value: object, path: str, *, minimum: int | None = None,
               maximum: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, "must be a whole number")
        return None
    if minimum is not None and value < minimum:
        problems.add(path, f"must be at least {minimum}")
        return None
    if maximum is not None and value > maximum:
        problems.add(path, f"must be at most {maximum}")
        return None
    return value


def expect_string(problems: Problems, value: object, path: str, *,
                  choices: Iterable[str] | None = None, max_length: int = STRING_MAX) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.add(path, "must be a non-empty string")
        return None
    if len(value) > max_length:
        problems.add(path, f"must be at most {max_length} characters (it has {len(value)})")
        return None
    if choices is not None:
        choices = list(choices)
        if value not in choices:
            problems.add(path, f"'{value}' is not one of: {', '.join(choices)}")
            return None
    return value


def expect_string_map(problems: Problems, value: object, path: str) -> dict | None:
    """A mapping of strings to strings (labels, selectors, annotations)."""
    mapping = expect_mapping(problems, value, path)
    if mapping is None:
        return None
    for key, item in mapping.items():
        if not isinstance(item, str):
            problems.add(f"{path}.{key}", "must be a string")
        elif len(item) > STRING_MAX or len(str(key)) > STRING_MAX:
            problems.add(f"{path}.{key}", f"keys and values must be at most {STRING_MAX} characters")
    return mapping


def expect_memory(problems: Problems, value: object, path: str, *, minimum: int | None = None,
                  minimum_text: str = "") -> int | None:
    """Bytes of a memory size written as Redis or Kubernetes do (100MB, 1GB, 512Mi, 2Gi); at most 1024TB."""
    if value is None:
        return None
    try:
        nbytes = parse_memory(value)
    except QuantityError as exc:
        problems.add(path, str(exc))
        return None
    if minimum is not None and nbytes < minimum:
        problems.add(path, f"must be at least {minimum_text or minimum}")
        return None
    return nbytes


def expect_cpu(problems: Problems, value: object, path: str) -> None:
    """A Kubernetes CPU quantity (2, 0.5, "500m"), at most MAX_CPU_CORES."""
    if value is None:
        return
    match = _CPU.match(str(value)) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    if match is None:
        shown = str(value)[:32]
        problems.add(path, f"'{shown}' is not a CPU quantity; use e.g. 2, 0.5 or 500m")
        return
    cores = float(match.group(1) + (match.group(2) or "")) / (1000 if match.group(3) else 1)
    if cores > MAX_CPU_CORES:
        problems.add(path, f"must be at most {MAX_CPU_CORES} cores")


def _encodable(text: str) -> bool:
    """False for text with lone surrogates (valid in JSON escapes, refused by every database driver)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plain_data_problem(value: object, limit: int = MAX_NESTING) -> str | None:
    """Why a parsed body is not plain JSON data (mappings with string keys, lists, UTF-8 strings without NUL,
    finite numbers, booleans, null) nested at most `limit` deep, or None. Checked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return f"nested deeper than {limit} levels"
            if isinstance(item, dict) and not all(isinstance(key, str) for key in item):
                return "mapping keys must be strings"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
        elif isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                return "strings must be UTF-8 text without NUL characters"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "numbers must be finite"
        elif item is not None and not isinstance(item, str | int | bool):
            return f"values must be strings, numbers, booleans or null (found a {type(item).__name__})"
    return None


def version_problem(version: str, available: list[str], target_name: str) -> str | None:
    """Why `version` cannot run on the target, or None. Shared by write checks and stored-spec checks."""
    if version in available:
        return None
    offered = ", ".join(available) or "none"
    return f"version {version} is not available on target {target_name}; available: {offered}"


def downgrade_problem(version: str, current: str | None) -> str | None:
    """Data files written by a newer server may not load in an older one, so versions only go up
    (and an engine change only goes Redis -> Valkey: core/engines.py)."""
    if not current or version == current or version_key(version) >= version_key(current):
        return None
    if engine_of(version) != engine_of(current):
        return (f"moving from {describe(current)} back to {describe(version)} is not supported: Redis cannot load "
                "the data files Valkey writes; engine changes only go Redis -> Valkey")
    return f"downgrading from {current} to {version} is not supported; Redis versions only go up"
