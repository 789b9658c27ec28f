"""Memory sizes as Redis and Kubernetes write them: 100MB, 1GB, 512Mi, 2Gi, 1073741824."""
import re

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3, "t": 1000**4, "tb": 1000**4,
    "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2, "gi": 1024**3, "gib": 1024**3, "ti": 1024**4,
    "tib": 1024**4,
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


class QuantityError(ValueError):
    pass


def parse_memory(value: str | int) -> int:
    """Bytes for a memory size; raises QuantityError with a user-readable message."""
    if isinstance(value, bool):
        raise QuantityError("must be a memory size such as 100MB, 1GB, 512Mi or 2Gi")
    if isinstance(value, int):
        if value < 0:
            raise QuantityError("must not be negative")
        return value
    match = _PATTERN.match(str(value))
    if not match or match.group(2).lower() not in _UNITS:
        raise QuantityError(f"'{value}' is not a memory size; use units like 100MB, 1GB, 512Mi or 2Gi")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_memory(nbytes: int) -> str:
    """A short human form, e.g. 1.5GB, for messages and the dashboard."""
    for unit, size in (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("KB", 1000)):
        if nbytes >= size:
            value = nbytes / size
            return f"{value:.1f}{unit}".replace(".0" + unit, unit)
    return f"{nbytes}B"
