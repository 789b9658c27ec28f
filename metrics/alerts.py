"""Alerts from the REDB `alertSettings` thresholds against the newest sample (pure).

Which settings there are and how a threshold is read: specs/alerts.py (Prometheus evaluates the same on
Kubernetes: kube/render/monitoring.py). Here: the value each one compares, from a sample.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from specs.alerts import ALERT_KINDS, AlertKind, enabled_alerts, threshold_of

from .samples import Sample

VALUES: dict[str, Callable[[Sample], float | None]] = {
    "bdb_size": lambda s: s.memory_percent,
    "bdb_high_throughput": lambda s: s.ops_per_sec,
    "bdb_low_throughput": lambda s: s.ops_per_sec,
    "bdb_high_latency": lambda s: s.latency_usec,
    "bdb_replica_src_high_syncer_lag": lambda s: s.replication_lag,
}
SETTINGS = frozenset(kind.setting for kind in ALERT_KINDS)
__all__ = ["Alert", "SETTINGS", "evaluate", "threshold_of", "transitions"]


@dataclass(frozen=True)
class Alert:
    setting: str
    value: float
    threshold: float
    message: str

    def as_dict(self) -> dict:
        return {"setting": self.setting, "value": round(self.value, 2), "threshold": self.threshold,
                "message": self.message}


def _fires(kind: AlertKind, value: float, threshold: float) -> bool:
    return value > threshold if kind.above else value < threshold


def evaluate(alert_settings: dict | None, sample: Sample) -> dict[str, Alert]:
    """The alerts firing for this sample, by setting name."""
    firing = {}
    for kind, threshold in enabled_alerts(alert_settings):
        value = VALUES[kind.setting](sample)
        if value is None or not _fires(kind, value, threshold):
            continue
        side = "above" if kind.above else "below"
        firing[kind.setting] = Alert(kind.setting, value, threshold,
                                     f"{kind.what} {value:.1f} {kind.unit} is {side} the threshold {threshold:g}")
    return firing


def transitions(before: set[str], now: dict[str, Alert]) -> tuple[list[Alert], list[str]]:
    """(alerts that started firing, settings that cleared)."""
    return [a for name, a in sorted(now.items()) if name not in before], sorted(before - set(now))
