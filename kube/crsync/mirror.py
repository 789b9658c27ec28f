"""The outbound half of the sync, run by the reconciler after every reconcile of an object.

What an object became through the API, the dashboard or `manage.py apply` is written as its
custom resource, and every status change reaches the custom resource's status subresource, without
waiting for the watcher; so are the access objects (users, roles, bindings, ACLs) of its namespace.
Inside a periodic pass the custom resources are listed once per kind.
A target without the CRDs (installing them needs a permission the control plane may lack) is left
alone for a while instead of costing a failed call per reconcile.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from core import kinds
from core.errors import TargetError

from ..client import KubeApi, NotFound
from .access import sync_access
from .sync import sync_resource

log = logging.getLogger(__name__)
RETRY_MISSING_DEFINITIONS = 300.0


class Mirror:
    def __init__(self, api: Callable[[], KubeApi], target):
        self._api = api
        self.target = target
        self._snapshot: dict[str, dict[tuple[str, str], dict]] | None = None
        self._unavailable_until = 0.0
        self._access_unavailable_until = 0.0

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self._snapshot = {}
        try:
            yield
        finally:
            self._snapshot = None

    def after_reconcile(self, obj) -> None:
        """Write `obj` (or, once its row is deleted, the end of its custom resource) to the target. Never raises:
        the reconcile already did its work; the next one or the watcher catches up."""
        if time.monotonic() < self._unavailable_until:
            return
        kind = kinds.of(obj)
        try:
            resource = self._read(kind, obj.namespace, obj.name)
            sync_resource(self._api(), self.target, kind, obj.namespace, obj.name, resource=resource,
                          inbound=False, read=False)
        except NotFound as exc:
            self._unavailable_until = time.monotonic() + RETRY_MISSING_DEFINITIONS
            log.info("target %s does not serve %s custom resources (%s); not written for %.0f s",
                     self.target.name, kind.api_kind, exc, RETRY_MISSING_DEFINITIONS)
        except TargetError as exc:
            log.warning("writing the %s of %s %s failed: %s", kind.api_kind, obj.kind, obj.name, exc)
        self._write_access(obj.namespace)

    def _write_access(self, namespace: str) -> None:
        """The access objects of the namespace as custom resources (made or deleted through the control plane:
        their change asked for a reconcile of the namespace's databases, which lands here)."""
        if time.monotonic() < self._access_unavailable_until:
            return
        try:
            sync_access(self._api(), self.target, inbound=False, namespace=namespace,
                        listed=None if self._snapshot is None else self._listed)
        except NotFound as exc:
            self._access_unavailable_until = time.monotonic() + RETRY_MISSING_DEFINITIONS
            log.info("target %s does not serve the access custom resources (%s); not written for %.0f s",
                     self.target.name, exc, RETRY_MISSING_DEFINITIONS)
        except TargetError as exc:
            log.warning("writing the access custom resources of namespace %s failed: %s", namespace, exc)

    def _listed(self, api_kind: str) -> list[dict]:
        """A kind's custom resources, listed once per pass."""
        if api_kind not in self._snapshot:
            self._snapshot[api_kind] = {(r["metadata"]["namespace"], r["metadata"]["name"]): r
                                        for r in self._api().list(api_kind)}
        return list(self._snapshot[api_kind].values())

    def _read(self, kind: kinds.Kind, namespace: str, name: str) -> dict | None:
        if self._snapshot is None:
            return self._api().get(kind.api_kind, namespace, name)
        if kind.name not in self._snapshot:
            self._snapshot[kind.name] = {(r["metadata"]["namespace"], r["metadata"]["name"]): r
                                         for r in self._api().list(kind.api_kind)}
        return self._snapshot[kind.name].get((namespace, name))
