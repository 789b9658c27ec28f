"""The local target: clusters and databases as real redis-sentinel / redis-server processes here."""
from __future__ import annotations

import contextlib
from pathlib import Path

from django.conf import settings

from databases.spec import DatabaseSpec
from targets.drivers import ConnectionInfo, Observation, TargetError, register_driver

from . import layout, versions
from .ports import PortRegistry, is_listening, port_range


@register_driver("local")
class LocalDriver:
    def __init__(self, target):
        self.target = target

    # -- where things live ------------------------------------------------------------------
    @property
    def var_dir(self) -> Path:
        return Path(self.target.settings.get("var_dir") or settings.VAR_DIR)

    @property
    def root(self) -> Path:
        return layout.target_root(self.var_dir, self.target.name)

    @property
    def ports(self) -> PortRegistry:
        return PortRegistry(self.root)

    def endpoint_port(self, database) -> int:
        """The stable endpoint: `databasePort`, or one remembered for the database when the spec has none."""
        spec = DatabaseSpec.from_spec(database.spec, database.name)
        if spec.port is not None:
            return spec.port
        return self.ports.allocate(f"endpoint/{database.cluster.name}/{database.name}", "database")

    # -- the write path's questions ---------------------------------------------------------
    def redis_versions(self) -> list[str]:
        return list(versions.available_versions())

    def connection_info(self, database) -> ConnectionInfo:
        return ConnectionInfo(host="127.0.0.1", port=self.endpoint_port(database),
                              service_names=[f"{database.name}@127.0.0.1"])

    def free_database_port(self, cluster, taken: set[int]) -> int:
        remembered = set(self.ports.all().values())
        for port in port_range("database"):
            if port not in taken and port not in remembered and not is_listening(port):
                return port
        raise TargetError("no free database port left on the local target")

    def batch(self):
        return contextlib.nullcontext()

    # -- reconcile --------------------------------------------------------------------------
    def apply_cluster(self, cluster) -> Observation:
        raise TargetError("the local target cannot realise clusters yet")

    def apply_database(self, database) -> Observation:
        raise TargetError("the local target cannot realise databases yet")

    def delete_cluster(self, cluster) -> bool:
        return True

    def delete_database(self, database) -> bool:
        return True
