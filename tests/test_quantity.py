import pytest

from core.quantity import QuantityError, format_memory, parse_memory


@pytest.mark.parametrize("text,expected", [
    ("100MB", 100_000_000), ("1GB", 1_000_000_000), ("512Mi", 512 * 1024**2), ("2Gi", 2 * 1024**3),
    ("256MB", 256_000_000), (1048576, 1048576), ("1.5GB", 1_500_000_000),
])
def test_parse_memory_accepts_redis_and_kubernetes_units(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "10XB", "-5MB", True])
def test_parse_memory_rejects_nonsense_with_a_message(text):
    with pytest.raises(QuantityError, match="memory size|units"):
        parse_memory(text)


def test_format_memory_is_short():
    assert format_memory(1_500_000_000) == "1.5GB"
    assert format_memory(256_000_000) == "256MB"
