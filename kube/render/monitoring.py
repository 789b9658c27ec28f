"""What a database becomes for the Prometheus operator (pure): a ServiceMonitor on its exporter sidecars and a
PrometheusRule from its `alertSettings`.

Rendered only on targets that serve the operator's kinds (monitoring.coreos.com/v1 `servicemonitors` and
`prometheusrules`, asked of API discovery by the driver): elsewhere nothing is rendered and nothing fails.

Each enabled alert setting (specs/alerts.py, the same ones the control plane evaluates on its samples,
metrics/alerts.py) becomes one rule over the exporter's series of this database's pods (Prometheus labels
the targets of a ServiceMonitor with `namespace` and `service`); throughput and latency count the masters
only (replicas replay the masters' writes), memory and lag any pod.
"""
from __future__ import annotations

import re

from kube import podspec
from kube.render.inputs import DatabaseInputs
from specs.alerts import AlertKind, enabled_alerts

MONITORING_API = "monitoring.coreos.com/v1"
SERVICE_MONITOR = "ServiceMonitor"
PROMETHEUS_RULE = "PrometheusRule"
# The plural names discovery must list for the kinds to be rendered.
RESOURCES = {SERVICE_MONITOR: "servicemonitors", PROMETHEUS_RULE: "prometheusrules"}
SCRAPE_INTERVAL = "30s"
FOR = "1m"  # an alert fires after its condition held this long (no flapping on one scrape)
RATE_WINDOW = "1m"


def _selector(database: DatabaseInputs) -> str:
    return f'namespace="{database.namespace}",service="{database.name}-headless"'


def expression(kind: AlertKind, threshold: float, database: DatabaseInputs) -> str:
    """The PromQL of one alert setting: true (non-empty) while the threshold is crossed."""
    pods = _selector(database)
    masters = f'and on (pod) redis_instance_info{{{pods},role="master"}}'
    value = {
        "bdb_size": f"100 * redis_memory_used_bytes{{{pods}}} / (redis_memory_max_bytes{{{pods}}} > 0)",
        "bdb_high_throughput": f"sum(rate(redis_commands_processed_total{{{pods}}}[{RATE_WINDOW}]) {masters})",
        "bdb_low_throughput": f"sum(rate(redis_commands_processed_total{{{pods}}}[{RATE_WINDOW}]) {masters})",
        "bdb_high_latency": f"1e6 * sum(rate(redis_commands_duration_seconds_total{{{pods}}}[{RATE_WINDOW}]) "
                            f"{masters}) / sum(rate(redis_commands_total{{{pods}}}[{RATE_WINDOW}]) {masters})",
        "bdb_replica_src_high_syncer_lag": f"max(redis_connected_slave_lag_seconds{{{pods}}})",
    }[kind.setting]
    return f"{value} {'>' if kind.above else '<'} {threshold:g}"


def series_used(expr: str) -> set[str]:
    """The exporter series an expression reads (what a test checks the sidecar really serves)."""
    return set(re.findall(r"\b(redis_[a-z_]+)\{", expr))


def monitoring_manifests(database: DatabaseInputs, alert_settings: dict | None) -> list[dict]:
    """The ServiceMonitor, and the PrometheusRule when an alert setting is enabled."""
    labels = podspec.labels(database.cluster.name, component="database", database=database.name,
                            extra=database.cluster.typed_spec.extra_labels)
    selector = podspec.selector(database.cluster.name, component="database", database=database.name)
    manifests = [{
        "apiVersion": MONITORING_API,
        "kind": SERVICE_MONITOR,
        "metadata": podspec.metadata(database.name, database.namespace, labels),
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [database.namespace]},
            "endpoints": [{"port": "metrics", "interval": SCRAPE_INTERVAL, "path": "/metrics"}],
        },
    }]
    rules = [{
        "alert": kind.setting,
        "expr": expression(kind, threshold, database),
        "for": FOR,
        "labels": {"severity": "warning", "namespace": database.namespace, "database": database.name},
        "annotations": {"summary": f"{database.name}: {kind.what} {'above' if kind.above else 'below'} "
                                   f"{threshold:g} {kind.unit}",
                        "description": f"REDB {database.namespace}/{database.name} alertSettings.{kind.setting}"},
    } for kind, threshold in enabled_alerts(alert_settings)]
    if rules:
        manifests.append({
            "apiVersion": MONITORING_API,
            "kind": PROMETHEUS_RULE,
            "metadata": podspec.metadata(database.name, database.namespace, labels),
            "spec": {"groups": [{"name": f"redb-{database.namespace}-{database.name}", "rules": rules}]},
        })
    return manifests

