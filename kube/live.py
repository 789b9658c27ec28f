"""Reading what is live for one cluster or database, alone or within a periodic pass.

Alone, each kind is listed in the object's namespace with its label selector. Within `batch()`,
each kind is listed once for the whole target (every object the control plane manages) and every
reconcile of the pass is served from that snapshot: O(kinds) calls per pass, not O(objects).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from core.errors import TargetError

from .client import KubeApi
from .podspec import CLUSTER_LABEL, DATABASE_LABEL, MANAGED_BY

CLUSTER_KINDS = ["ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap", "Service", "StatefulSet",
                 "PodDisruptionBudget", "ResourceQuota", "Ingress", "Pod", "PersistentVolumeClaim"]
DATABASE_KINDS = ["ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap", "Service", "StatefulSet",
                  "PodDisruptionBudget", "Ingress", "NetworkPolicy", "Pod",
                  "PersistentVolumeClaim"]
MANAGED_SELECTOR = {"app.kubernetes.io/managed-by": MANAGED_BY}


class LiveReader:
    def __init__(self, api: Callable[[], KubeApi]):
        self._api = api
        # kind -> {(namespace, cluster label, database label or ""): objects}
        self._snapshot: dict[str, dict[tuple[str, str, str], list[dict]]] | None = None
        # Within a pass, the first failed list fails every later read at once: an API server that
        # hangs costs one timeout per pass, not one per object.
        self._failure: TargetError | None = None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self._snapshot, self._failure = {}, None
        try:
            yield
        finally:
            self._snapshot, self._failure = None, None

    def _objects(self, kind: str, namespace: str, cluster: str, database: str = "") -> list[dict]:
        """One owner's objects of a kind: a cluster's own (database "") or a database's."""
        if self._snapshot is None:
            selector = {**MANAGED_SELECTOR, CLUSTER_LABEL: cluster, **({DATABASE_LABEL: database} if database else {})}
            return [obj for obj in self._api().list(kind, namespace, selector) if _owner(obj)[2] == database]
        if self._failure is not None:
            raise TargetError(f"{self._failure} (earlier in this periodic pass)")
        if kind not in self._snapshot:
            index: dict[tuple[str, str, str], list[dict]] = {}
            try:
                listed = self._api().list(kind, None, MANAGED_SELECTOR)
            except TargetError as exc:
                self._failure = exc
                raise
            for obj in listed:
                index.setdefault(_owner(obj), []).append(obj)
            self._snapshot[kind] = index
        return self._snapshot[kind].get((namespace, cluster, database), [])

    def cluster_objects(self, cluster) -> list[dict]:
        """The cluster's own objects (not its databases')."""
        return [obj for kind in CLUSTER_KINDS for obj in self._objects(kind, cluster.namespace, cluster.name)]

    def database_pods(self, database) -> list[dict]:
        return self._objects("Pod", database.namespace, database.cluster.name, database.name)

    def database_objects(self, database, kinds: tuple[str, ...] | list[str] = tuple(DATABASE_KINDS)) -> list[dict]:
        """`kinds`: also kinds that exist only on some targets (the Prometheus operator's), when this one has them."""
        return [obj for kind in kinds
                for obj in self._objects(kind, database.namespace, database.cluster.name, database.name)]


def _owner(obj: dict) -> tuple[str, str, str]:
    labels = obj["metadata"].get("labels") or {}
    return obj["metadata"].get("namespace", ""), labels.get(CLUSTER_LABEL, ""), labels.get(DATABASE_LABEL, "")


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict | None:
    return next((obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name), None)
