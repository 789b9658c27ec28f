"""Memory sizes as Redis and Kubernetes write them: 100MB, 1GB, 512Mi, 2Gi, 1073741824.

Units follow each tool's own convention, so a size means what its writer expects:
- Redis (redis.conf, case-insensitive): `1kb`/`1mb`/`1gb` are 1024-based, `1k`/`1m`/`1g` are 1000-based;
  `tb`/`t` extend the same rule.
- Kubernetes: `Ki`/`Mi`/`Gi`/`Ti` (and `KiB`...) are 1024-based, `k`/`M`/`G`/`T` 1000-based.
The two agree wherever both define a suffix; lowercase `m` is Redis's million (Kubernetes' "milli"
makes no sense for bytes). Sizes are bounded by MAX_MEMORY_BYTES so no arithmetic on them overflows.
"""
import re
from decimal import Decimal

KIB, MIB, GIB, TIB = 1024, 1024**2, 1024**3, 1024**4
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
    "kb": KIB, "mb": MIB, "gb": GIB, "tb": TIB,
    "ki": KIB, "mi": MIB, "gi": GIB, "ti": TIB,
    "kib": KIB, "mib": MIB, "gib": GIB, "tib": TIB,
}
# Bytes of the largest size any field may name (1024TB); far above any real machine, far below overflow.
MAX_MEMORY_BYTES = 1024 * TIB
MAX_MEMORY_TEXT = "1024TB"
_PATTERN = re.compile(r"^\s*(\d{1,30})(?:\.(\d{1,30}))?\s*([a-zA-Z]{0,3})\s*$")
_HINT = "use units like 100MB, 1GB, 512Mi or 2Gi"


class QuantityError(ValueError):
    pass


def parse_memory(value: str | int) -> int:
    """Bytes for a memory size (a string with a unit, or whole bytes); raises QuantityError with a user-readable
    message for anything else, including floats (no silent coercion) and sizes above MAX_MEMORY_BYTES."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise QuantityError("must be a memory size such as 100MB, 1GB, 512Mi or 2Gi")
    if isinstance(value, int):
        nbytes = value
        if nbytes < 0:
            raise QuantityError("must not be negative")
    else:
        match = _PATTERN.match(value) if len(value) <= 64 else None
        if not match or match.group(3).lower() not in _UNITS:
            shown = value if len(value) <= 64 else value[:64] + "..."
            raise QuantityError(f"'{shown}' is not a memory size; {_HINT}")
        whole, fraction, unit = match.groups()
        nbytes = int(Decimal(f"{whole}.{fraction or '0'}") * _UNITS[unit.lower()])
    if nbytes > MAX_MEMORY_BYTES:
        raise QuantityError(f"must be at most {MAX_MEMORY_TEXT}")
    return nbytes


def format_memory(nbytes: int) -> str:
    """A short human form in Redis's units (1024-based KB/MB/GB/TB), e.g. 1.5GB, for messages and the
    dashboard; parse_memory reads it back to about the same size."""
    for unit, size in (("TB", TIB), ("GB", GIB), ("MB", MIB), ("KB", KIB)):
        if nbytes >= size:
            value = nbytes / size
            return f"{value:.1f}{unit}".replace(".0" + unit, unit)
    return f"{nbytes}B"
