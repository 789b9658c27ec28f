"""Metrics: the control plane's own Prometheus endpoint, per-database samples for the dashboard's
charts, and alerts from the REDB `alertSettings` thresholds (docs/metrics.md)."""
