"""What every write path (API, dashboard, YAML, management commands) shares.

Write paths call the services in `clusters/services.py` and `databases/services.py`; those
validate with the one validator, save (bumping `generation` on a spec change), record an event
and request a reconcile after commit. These are the errors and results they speak in.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class SpecError(Exception):
    """Invalid input. `errors` maps a field path (e.g. "spec.memorySize", "name") to messages."""

    def __init__(self, errors: dict[str, list[str]], warnings: list[str] | None = None):
        self.errors = errors
        self.warnings = warnings or []
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class StaleGeneration(Exception):
    """The write was based on an older generation than the stored one (HTTP 409)."""

    def __init__(self, expected: int, actual: int):
        self.expected, self.actual = expected, actual
        super().__init__(f"the object changed since generation {expected}; it is now at generation {actual}. "
                         "Reload and apply your change again.")


@dataclass
class WriteResult:
    obj: object
    created: bool = False
    changed: bool = False
    warnings: list[str] = field(default_factory=list)
