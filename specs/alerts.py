"""The REDB `alertSettings` the control plane acts on: what each measures, which way it fires, and the
threshold of an enabled setting (pure).

Two evaluators share these: the control plane's own, on its samples (metrics/alerts.py), and Prometheus
on Kubernetes, as PrometheusRules over the exporter sidecars' series (kube/render/monitoring.py).
A setting is `{"enabled": true, "threshold": "80"}` as in the Redis Enterprise operator (the threshold
may be a string or a number); disabled or unparsable settings are not evaluated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class AlertKind:
    setting: str
    what: str
    unit: str
    above: bool = True  # fires when the value is above the threshold (else below)


ALERT_KINDS = (
    AlertKind("bdb_size", "memory used", "% of the memory limit"),
    AlertKind("bdb_high_throughput", "throughput", "ops/s"),
    AlertKind("bdb_low_throughput", "throughput", "ops/s", above=False),
    AlertKind("bdb_high_latency", "latency", "µs per command"),
    AlertKind("bdb_replica_src_high_syncer_lag", "replication lag", "s"),
)


def threshold_of(setting) -> float | None:
    """The threshold of an enabled setting, or None."""
    if not isinstance(setting, dict) or setting.get("enabled") is not True:
        return None
    try:
        threshold = float(setting.get("threshold"))
    except (TypeError, ValueError):
        return None
    return threshold if math.isfinite(threshold) and threshold >= 0 else None


def enabled_alerts(alert_settings: dict | None) -> list[tuple[AlertKind, float]]:
    """Each enabled setting with its threshold, in ALERT_KINDS order."""
    found = []
    for kind in ALERT_KINDS:
        threshold = threshold_of((alert_settings or {}).get(kind.setting)) if isinstance(alert_settings, dict) \
            else None
        if threshold is not None:
            found.append((kind, threshold))
    return found
