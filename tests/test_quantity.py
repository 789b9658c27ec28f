import pytest

from core.quantity import QuantityError, format_memory, parse_memory


@pytest.mark.parametrize("text,expected", [
    # Redis (redis.conf): 1mb => 1024*1024 bytes, 1m => 1000000, case-insensitive
    ("100MB", 100 * 1024**2), ("1GB", 1024**3), ("256mb", 256 * 1024**2), ("1.5GB", 1536 * 1024**2),
    ("1m", 1_000_000), ("1k", 1000), ("1kb", 1024), ("2g", 2_000_000_000),
    # Kubernetes: Mi/Gi 1024-based, M/G 1000-based
    ("512Mi", 512 * 1024**2), ("2Gi", 2 * 1024**3), ("500M", 500_000_000), ("1G", 1_000_000_000),
    (1048576, 1048576),
])
def test_parse_memory_accepts_redis_and_kubernetes_units(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "10XB", "-5MB", True, 1.5e9, 1.5, "1.5e9", None, [1]])
def test_parse_memory_rejects_nonsense_with_a_message(text):
    with pytest.raises(QuantityError, match="memory size|units"):
        parse_memory(text)


@pytest.mark.parametrize("value", ["1" * 400, 10**400, "2000TB", 1024**5 + 1, "9" * 31 + "MB"])
def test_parse_memory_bounds_huge_sizes_without_overflow(value):
    with pytest.raises(QuantityError, match="at most 1024TB|not a memory size"):
        parse_memory(value)


def test_format_memory_is_short_in_redis_units():
    assert format_memory(parse_memory("1.5GB")) == "1.5GB"
    assert format_memory(256 * 1024**2) == "256MB"
    assert format_memory(parse_memory("1024TB")) == "1024TB"
