"""Alerts from the REDB `alertSettings` thresholds against the newest sample (pure).

A setting is `{"enabled": true, "threshold": "80"}` as in the Redis Enterprise operator (the
threshold may be a string or a number); disabled or unparsable settings are not evaluated.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .samples import Sample


@dataclass(frozen=True)
class Rule:
    setting: str
    what: str
    unit: str
    value: Callable[[Sample], float | None]
    above: bool = True  # fires when the value is above the threshold (else below)


RULES = (
    Rule("bdb_size", "memory used", "% of the memory limit", lambda s: s.memory_percent),
    Rule("bdb_high_throughput", "throughput", "ops/s", lambda s: s.ops_per_sec),
    Rule("bdb_low_throughput", "throughput", "ops/s", lambda s: s.ops_per_sec, above=False),
    Rule("bdb_high_latency", "latency", "µs per command", lambda s: s.latency_usec),
    Rule("bdb_replica_src_high_syncer_lag", "replication lag", "s", lambda s: s.replication_lag),
)
SETTINGS = frozenset(rule.setting for rule in RULES)


@dataclass(frozen=True)
class Alert:
    setting: str
    value: float
    threshold: float
    message: str

    def as_dict(self) -> dict:
        return {"setting": self.setting, "value": round(self.value, 2), "threshold": self.threshold,
                "message": self.message}


def threshold_of(setting) -> float | None:
    """The threshold of an enabled setting, or None."""
    if not isinstance(setting, dict) or setting.get("enabled") is not True:
        return None
    try:
        threshold = float(setting.get("threshold"))
    except (TypeError, ValueError):
        return None
    return threshold if math.isfinite(threshold) and threshold >= 0 else None


def evaluate(alert_settings: dict | None, sample: Sample) -> dict[str, Alert]:
    """The alerts firing for this sample, by setting name."""
    firing = {}
    for rule in RULES:
        threshold = threshold_of((alert_settings or {}).get(rule.setting))
        value = rule.value(sample)
        if threshold is None or value is None:
            continue
        if (value > threshold) if rule.above else (value < threshold):
            side = "above" if rule.above else "below"
            firing[rule.setting] = Alert(rule.setting, value, threshold,
                                         f"{rule.what} {value:.1f} {rule.unit} is {side} the threshold {threshold:g}")
    return firing


def transitions(before: set[str], now: dict[str, Alert]) -> tuple[list[Alert], list[str]]:
    """(alerts that started firing, settings that cleared)."""
    return [a for name, a in sorted(now.items()) if name not in before], sorted(before - set(now))
