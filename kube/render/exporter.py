"""The exporter sidecar of a database pod on Kubernetes (pure, like the rest of the rendering).

Each shard pod gets the upstream image of the exporter Debian packages as
`prometheus-redis-exporter`; it scrapes its own pod's Redis on localhost as the pods' own user (its password
from Secret <db>-internal, an env var from a secretKeyRef, never a literal), and the headless Service names the
port `metrics` so a Prometheus (or a ServiceMonitor selecting the database's labels) reaches every pod.
"""
from __future__ import annotations

from kube import podspec

EXPORTER_IMAGE = "oliver006/redis_exporter:v1.62.0"
METRICS_PORT = 9121


def exporter_container(redis_port: int, login_env: list[dict]) -> dict:
    """`login_env`: REDIS_USER and REDIS_PASSWORD, the pods' own login (a secretKeyRef to the Secret the redis
    container reads too)."""
    return {
        "name": "metrics",
        "image": EXPORTER_IMAGE,
        "args": ["-redis.addr", f"redis://127.0.0.1:{redis_port}", "-web.listen-address", f":{METRICS_PORT}",
                 "-include-system-metrics=false"],
        "env": login_env,
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
        # No memory request: the cluster's ResourceQuota charges databases by their memorySize alone (a
        # request is needed all the same, or the quota admission refuses the pod; a limit alone would set one).
        "resources": {"requests": {"cpu": "10m", "memory": "0"}, "limits": {"memory": "64Mi"}},
        "securityContext": podspec.container_security(),
    }


def metrics_service_port() -> dict:
    return {"name": "metrics", "port": METRICS_PORT, "targetPort": METRICS_PORT}
