"""Users, roles, role bindings and ACLs as custom resources, kept in step both ways by the same sync as REC/REDB
(kube/crsync/plan.py decides, sync.py acts): one written with kubectl (`kubectl apply -f examples/reuser.yaml`)
is taken in through access/services.py (the one validator; a refused spec changes nothing and shows
`status.specStatus: Invalid` with the field message), and one made through the API, the dashboard or `manage.py
apply` is written out as its custom resource, with the finalizer, so that `kubectl delete` deletes the object and
a delete through the control plane deletes the custom resource.

Access objects live in namespaces, not on a target: a target's are those of the namespaces where it has a cluster
(their users are on its databases) and those taken in from it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from access.kind import ACCESS_KINDS
from clusters.kind import CLUSTER
from core import kinds
from core.errors import TargetError

from ..client import KubeApi, NotFound
from .resources import GENERATION_ANNOTATION, author, declared_metadata
from .sync import Step, sync_listed

log = logging.getLogger(__name__)
SOURCE_ANNOTATION = "redis-controlplane.io/source-target"  # taken in from a custom resource of this target


@dataclass(frozen=True)
class AccessKind:
    """An access kind as the custom-resource sync takes a kind (what sync.py asks of core/kinds.Kind)."""
    document: kinds.DocumentKind

    @property
    def name(self) -> str:
        return self.document.name

    @property
    def api_kind(self) -> str:
        return self.document.api_kind

    @property
    def api_versions(self) -> tuple[str, ...]:
        return self.document.api_versions

    def on_target(self, target) -> list:
        namespaces = set(CLUSTER.on_target(target).filter(deletion_requested_at__isnull=True)
                         .values_list("namespace", flat=True))
        return [row for row in self.document.queryset()
                if row.namespace in namespaces or (row.annotations or {}).get(SOURCE_ANNOTATION) == target.name]

    def find(self, target, namespace: str, name: str):
        return self.document.queryset().filter(namespace=namespace, name=name).first()

    def create(self, target, resource: dict):
        """The row of a custom resource made with kubectl (SpecError when refused)."""
        meta = resource["metadata"]
        declared = declared_metadata(resource)
        return self.document.apply(name=meta["name"], namespace=meta.get("namespace"), spec=resource.get("spec") or {},
                                   actor=author(resource), labels=declared["labels"],
                                   annotations={**_declared(declared), SOURCE_ANNOTATION: target.name})

    def update(self, row, *, spec: dict, actor, expected_generation, name: str, metadata: dict):
        kept = {SOURCE_ANNOTATION: row.annotations[SOURCE_ANNOTATION]} \
            if SOURCE_ANNOTATION in (row.annotations or {}) else {}
        return self.document.apply(name=name, namespace=row.namespace, spec=spec, actor=actor,
                                   labels=metadata["labels"], annotations={**_declared(metadata), **kept})

    def request_deletion(self, row, *, actor) -> None:
        self.document.request_deletion(row, actor=actor)

    def resource_status(self, obj) -> dict:
        return {"specStatus": "Valid"}


def _declared(metadata: dict) -> dict[str, str]:
    """Annotations as a user declared them: without the sync's own bookkeeping."""
    return {k: v for k, v in metadata["annotations"].items() if k not in (GENERATION_ANNOTATION, SOURCE_ANNOTATION)}


SYNCED = [AccessKind(document) for document in ACCESS_KINDS]


def sync_access(api: KubeApi, target, *, inbound: bool = True, namespace: str | None = None,
                listed: Callable[[str], list[dict]] | None = None) -> list[Step]:
    """Every access custom resource of `target` (of one namespace) and every access object it holds in step.
    `listed(api_kind)` gives a kind's custom resources when already listed (a periodic pass lists once)."""
    steps = []
    for kind in SYNCED:
        try:
            resources = listed(kind.api_kind) if listed else api.list(kind.api_kind, namespace)
        except (TargetError, NotFound) as exc:  # the CRD is not installed there: nothing to sync
            log.info("no %s on target %s: %s", kind.api_kind, target.name, exc)
            continue
        if namespace is not None:
            resources = [r for r in resources if r["metadata"].get("namespace") == namespace]
        steps += sync_listed(api, target, kind, resources, inbound=inbound, namespace=namespace)
    return [step for step in steps if step.actions]
