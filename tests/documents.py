"""REC/REDB YAML as a user writes it, for the tests that apply a file (`apply -f`, the dashboard)."""
from __future__ import annotations

import yaml


def rec_and_redb(cluster: str, database: str, database_spec: dict, *, nodes: int = 3) -> str:
    """A cluster of `nodes` and one database on it, as two YAML documents."""
    return yaml.safe_dump_all([
        {"apiVersion": "app.redislabs.com/v1", "kind": "RedisEnterpriseCluster",
         "metadata": {"name": cluster}, "spec": {"nodes": nodes}},
        {"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseDatabase",
         "metadata": {"name": database}, "spec": database_spec},
    ], sort_keys=False)
