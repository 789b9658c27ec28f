"""Making live objects match rendered manifests: server-side apply, pruning, immutable fields.

An object is written only when it differs from what is live: either its rendered content changed
(the `redis.io/applied-hash` annotation no longer matches) or someone changed a field the control
plane owns (drift: a rendered field whose live value differs). A reconcile that finds nothing to
change makes no write call.
"""
from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field

from core.drivers import Happening
from core.errors import SpecNotRealisable
from core.quantity import parse_memory

from .client import KubeApi
from .podspec import content_hash

APPLIED_HASH = "redis.io/applied-hash"
# Kinds the renderers produce, in apply order; deletion goes the other way.
APPLY_ORDER = ["Namespace", "ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap", "Service",
               "StatefulSet", "PodDisruptionBudget", "ResourceQuota", "Ingress", "NetworkPolicy", "ServiceMonitor",
               "PrometheusRule"]
# StatefulSet fields Kubernetes refuses to change in place.
IMMUTABLE_STATEFULSET_FIELDS = ("selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates")


@dataclass
class SyncResult:
    written: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    happenings: list[Happening] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.pruned)


def prepared(manifest: dict) -> dict:
    """The manifest as it is sent: Secret `stringData` as base64 `data`, plus the applied-hash annotation."""
    result = copy.deepcopy(manifest)
    if result["kind"] == "Secret" and "stringData" in result:
        result["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in result.pop("stringData").items()}
    meta = result["metadata"]
    meta.setdefault("annotations", {})[APPLIED_HASH] = content_hash(result)
    return result


def drifted_fields(desired, live, path: str = "") -> list[str]:
    """Paths of rendered fields whose live value differs. Fields Kubernetes adds (defaults) are ignored."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return [path or "."]
        found = []
        for key, value in desired.items():
            found += drifted_fields(value, live.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            return [path]
        found = []
        for index, (want, have) in enumerate(zip(desired, live, strict=True)):
            found += drifted_fields(want, have, f"{path}[{index}]")
        return found
    return [] if desired == live else [path]


def key_of(obj: dict) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def describe(obj: dict) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"


class Applier:
    """Syncs one owner's manifests (a cluster's or a database's) against its live objects."""

    def __init__(self, api: KubeApi):
        self.api = api

    def sync(self, desired: list[dict], live: list[dict], *, resize_allowed: bool = False,
             spec_unchanged: bool = False) -> SyncResult:
        """Apply what differs and delete live objects no longer rendered. `live` must be this owner's objects.

        `spec_unchanged`: the spec was realised before, so a missing object was removed out of band.
        """
        result = SyncResult()
        live_by_key = {key_of(obj): obj for obj in live}
        for manifest in sorted(desired, key=lambda m: APPLY_ORDER.index(m["kind"])):
            wanted = prepared(manifest)
            current = live_by_key.get(key_of(wanted))
            if current is not None:
                annotations = current["metadata"].get("annotations") or {}
                drift = drifted_fields(_body(wanted), _body(current))
                if annotations.get(APPLIED_HASH) == wanted["metadata"]["annotations"][APPLIED_HASH] and not drift:
                    continue
                if annotations.get(APPLIED_HASH) == wanted["metadata"]["annotations"][APPLIED_HASH]:
                    result.happenings.append(Happening("DriftCorrected", _drift_message(wanted, current, drift),
                                                       warning=True))
                if wanted["kind"] == "StatefulSet":
                    self._replace_if_immutable_changed(wanted, current, resize_allowed, result)
            self.api.apply(wanted)
            result.written.append(describe(wanted))
            if current is None and live and spec_unchanged:
                # Something this owner created earlier is missing: put back, and say so.
                result.happenings.append(Happening("DriftCorrected", f"{describe(wanted)} was missing; recreated",
                                                   warning=True))
        wanted_keys = {key_of(m) for m in desired}
        for obj in sorted(live, key=lambda o: -APPLY_ORDER.index(o["kind"]) if o["kind"] in APPLY_ORDER else 0):
            if obj["kind"] in APPLY_ORDER and key_of(obj) not in wanted_keys:
                self.api.delete(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
                result.pruned.append(describe(obj))
                result.happenings.append(Happening("Pruned", f"{describe(obj)} is no longer in the spec; deleted"))
        return result

    def _replace_if_immutable_changed(self, wanted: dict, current: dict, resize_allowed: bool,
                                      result: SyncResult) -> None:
        """Kubernetes cannot change these in place: expand volumes and re-create the StatefulSet, or refuse."""
        changed = [f for f in IMMUTABLE_STATEFULSET_FIELDS
                   if wanted["spec"].get(f) != rendered_part(wanted["spec"].get(f), current["spec"].get(f))]
        if not changed:
            return
        name = wanted["metadata"]["name"]
        if changed != ["volumeClaimTemplates"]:
            raise SpecNotRealisable(f"StatefulSet {name}: {', '.join(changed)} cannot change in place")
        growth = _volume_growth(wanted, current)
        if growth is None:
            raise SpecNotRealisable(f"StatefulSet {name}: volumes can only grow in size; other volume changes "
                                    "(storage class, access mode, adding or removing persistence) need a new cluster")
        if not resize_allowed:
            raise SpecNotRealisable(f"StatefulSet {name}: volume size changed but persistentSpec."
                                    "enablePersistentVolumeResize is off")
        self._require_expandable(wanted)
        namespace = wanted["metadata"]["namespace"]
        for claim_name, size in growth.items():
            for pvc in self.api.list("PersistentVolumeClaim", namespace, _selector(wanted)):
                if pvc["metadata"]["name"].startswith(f"{claim_name}-{name}-"):
                    self.api.merge_patch("PersistentVolumeClaim", namespace, pvc["metadata"]["name"],
                                         {"spec": {"resources": {"requests": {"storage": size}}}})
        # Pods keep running: only the StatefulSet object is replaced, then re-adopts them.
        self.api.delete("StatefulSet", namespace, name, orphan=True)
        result.happenings.append(Happening("VolumesExpanded", f"StatefulSet {name}: volumes expanded to "
                                           f"{', '.join(growth.values())}; StatefulSet re-created, pods kept"))

    def _require_expandable(self, wanted: dict) -> None:
        classes = {t["spec"].get("storageClassName") for t in wanted["spec"].get("volumeClaimTemplates", [])}
        for class_name in classes:
            storage_class = self.api.get("StorageClass", None, class_name) if class_name else _default_class(self.api)
            if storage_class is None or not storage_class.get("allowVolumeExpansion"):
                raise SpecNotRealisable(f"storage class {class_name or '(default)'} does not allow volume expansion")


def _body(obj: dict) -> dict:
    body = {k: v for k, v in obj.items() if k not in ("status", "apiVersion", "kind")}
    meta = obj.get("metadata", {})
    body["metadata"] = {k: meta[k] for k in ("labels", "annotations") if k in meta}
    return body


def _drift_message(wanted: dict, current: dict, drift: list[str]) -> str:
    if wanted["kind"] == "Secret":
        return f"{describe(wanted)}: {', '.join(drift)} changed out of band; put back"
    parts = []
    for path in drift[:5]:
        parts.append(f"{path} {_lookup(current, path)!r} -> {_lookup(wanted, path)!r}")
    return f"{describe(wanted)}: {'; '.join(parts)} (changed out of band; put back)"


def _lookup(obj, path: str):
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(obj, list):
            index = int(part)
            obj = obj[index] if index < len(obj) else None
        elif isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


def rendered_part(desired, live):
    """`live` cut down to the keys `desired` has, recursively.

    The API server adds fields to what it stores (`apiVersion`/`kind`/`status` of a volumeClaimTemplate,
    `volumeMode`, defaults); only keys the control plane rendered are compared. A list of another
    length, or a value of another type, is returned as is and so compares unequal.
    """
    if isinstance(desired, dict) and isinstance(live, dict):
        return {key: rendered_part(value, live[key]) for key, value in desired.items() if key in live}
    if isinstance(desired, list) and isinstance(live, list) and len(desired) == len(live):
        return [rendered_part(want, have) for want, have in zip(desired, live, strict=True)]
    return live


def _volume_growth(wanted: dict, current: dict) -> dict[str, str] | None:
    """{claim name: new size} when only sizes grew; None when anything else changed."""
    new = {t["metadata"]["name"]: t for t in wanted["spec"].get("volumeClaimTemplates") or []}
    old = {t["metadata"]["name"]: t for t in current["spec"].get("volumeClaimTemplates") or []}
    if new.keys() != old.keys():
        return None
    growth = {}
    for name, template in new.items():
        new_size = template["spec"]["resources"]["requests"]["storage"]
        old_size = old[name]["spec"]["resources"]["requests"]["storage"]
        rest_new = {**template, "spec": {**template["spec"], "resources": None}}
        rest_old = rendered_part(rest_new, {**old[name], "spec": {**old[name]["spec"], "resources": None}})
        if rest_new != rest_old or parse_memory(new_size) < parse_memory(old_size):
            return None
        if new_size != old_size:
            growth[name] = new_size
    return growth or None


def _selector(statefulset: dict) -> dict[str, str]:
    return dict(statefulset["spec"]["selector"]["matchLabels"])


def _default_class(api: KubeApi) -> dict | None:
    for storage_class in api.list("StorageClass"):
        annotations = storage_class["metadata"].get("annotations") or {}
        if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
            return storage_class
    return None
