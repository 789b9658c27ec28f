"""What a real API server adds to and refuses in an object, for the kinds the control plane writes.

Defaulting follows the Kubernetes v1.32 `SetDefaults_*` functions (pkg/apis/core/v1/defaults.go,
pkg/apis/apps/v1/defaults.go) and the admission plugins every cluster runs (DefaultStorageClass,
ServiceAccount); validation covers names (DNS-1035 label for Services, DNS-1123 label for
namespaces, label values of 63 characters) and the StatefulSet and PVC fields that cannot change.
"""
from __future__ import annotations

import base64
import re

from .emulator_api import invalid

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# StatefulSet spec fields an update may change (apps/v1 ValidateStatefulSetUpdate).
STATEFULSET_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy",
                       "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


_HAS_SPEC = {"StatefulSet", "Pod", "Service", "PersistentVolumeClaim", "Namespace"}


# --- defaulting ------------------------------------------------------------------------------------
def apply_defaults(kind: str, obj: dict, *, store_default_class: str | None = None) -> dict:
    """`obj` with the defaults the API server fills in (changed in place and returned)."""
    spec = obj.setdefault("spec", {}) if kind in _HAS_SPEC else obj.get("spec")
    if kind == "StatefulSet":
        _statefulset(spec)
    elif kind == "Pod":
        _pod_spec(spec)
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        for container in spec.get("containers") or []:
            resources = container.get("resources") or {}
            for name, value in (resources.get("limits") or {}).items():
                resources.setdefault("requests", {}).setdefault(name, value)
        obj.setdefault("status", {}).setdefault("phase", "Pending")
    elif kind == "Service":
        _service(spec)
    elif kind == "PersistentVolumeClaim":
        _claim_spec(spec)
        if "storageClassName" not in spec and store_default_class:
            spec["storageClassName"] = store_default_class
        obj.setdefault("status", {}).setdefault("phase", "Pending")
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
        if obj.get("stringData"):  # a real server folds stringData into data (base64) and never stores it
            obj["data"] = {**(obj.get("data") or {}), **{key: base64.b64encode(str(value).encode()).decode()
                                                         for key, value in obj.pop("stringData").items()}}
    elif kind == "Namespace":
        obj.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = \
            obj["metadata"]["name"]
        spec.setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    elif kind == "RoleBinding":
        for subject in obj.get("subjects") or []:
            if subject.get("kind") in ("User", "Group"):
                subject.setdefault("apiGroup", "rbac.authorization.k8s.io")
    return obj


def _statefulset(spec: dict) -> None:
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    spec["persistentVolumeClaimRetentionPolicy"].setdefault("whenDeleted", "Retain")
    spec["persistentVolumeClaimRetentionPolicy"].setdefault("whenScaled", "Retain")
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        _claim_spec(claim.setdefault("spec", {}))
        claim.setdefault("status", {}).setdefault("phase", "Pending")
    _pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))


def _claim_spec(spec: dict) -> None:
    spec.setdefault("volumeMode", "Filesystem")


def _pod_spec(spec: dict) -> None:
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        _container(container)
    for volume in spec.get("volumes") or []:
        for source in ("secret", "configMap", "downwardAPI", "projected"):
            if source in volume:
                volume[source].setdefault("defaultMode", 0o644)
        if "hostPath" in volume:
            volume["hostPath"].setdefault("type", "")


def _container(container: dict) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _pull_policy(container.get("image", "")))
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if field_ref is not None:
            field_ref.setdefault("apiVersion", "v1")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if probe is not None:
            probe.setdefault("timeoutSeconds", 1)
            probe.setdefault("periodSeconds", 10)
            probe.setdefault("successThreshold", 1)
            probe.setdefault("failureThreshold", 3)
            if "httpGet" in probe:
                probe["httpGet"].setdefault("scheme", "HTTP")
                probe["httpGet"].setdefault("path", "/")


def _pull_policy(image: str) -> str:
    """`Always` for `:latest` or an untagged image, `IfNotPresent` otherwise (digests count as tags)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _service(spec: dict) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if spec["type"] != "ExternalName":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))


# --- validation --------------------------------------------------------------------------------------
def validate(kind: str, obj: dict, before: dict | None) -> None:
    """Raise 422 Invalid for a bad name, a bad label, or a change to an immutable field."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    causes = _name_causes(kind, name) if before is None else []
    for value in (meta.get("labels") or {}).values():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append(("metadata.labels", f'Invalid value: "{value}": a valid label must be an empty string '
                           "or consist of alphanumeric characters, '-', '_' or '.', and must be no more than "
                           "63 characters"))
    if before is not None:
        causes += _update_causes(kind, obj, before)
    if causes:
        version = obj.get("apiVersion", "v1")
        raise invalid(kind, name, causes, version.split("/")[0] if "/" in version else "")


def _name_causes(kind: str, name: str) -> list[tuple[str, str]]:
    if not name:
        return [("metadata.name", "Required value: name or generateName is required")]
    if kind in ("Service", "Namespace"):
        pattern, limit, what = ((_DNS1035_LABEL, 63, "a DNS-1035 label") if kind == "Service"
                                else (_DNS1123_LABEL, 63, "a lowercase RFC 1123 label"))
    else:
        pattern, limit, what = _DNS1123_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain"
    if len(name) > limit:
        return [("metadata.name", f'Invalid value: "{name}": must be no more than {limit} characters')]
    if not pattern.match(name):
        return [("metadata.name", f'Invalid value: "{name}": must be {what}')]
    return []


def _update_causes(kind: str, obj: dict, before: dict) -> list[tuple[str, str]]:
    new, old = obj.get("spec") or {}, before.get("spec") or {}
    if kind == "StatefulSet":
        rest_new = {k: v for k, v in new.items() if k not in STATEFULSET_MUTABLE}
        rest_old = {k: v for k, v in old.items() if k not in STATEFULSET_MUTABLE}
        if rest_new != rest_old:
            return [("spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                     "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
                     "are forbidden")]
    if kind == "PersistentVolumeClaim":
        strip = ("resources", "volumeAttributesClassName")
        if {k: v for k, v in new.items() if k not in strip} != {k: v for k, v in old.items() if k not in strip}:
            return [("spec", "Forbidden: spec is immutable after creation except resources.requests and "
                     "volumeAttributesClassName for bound claims")]
    if kind == "Service" and old.get("clusterIP") and new.get("clusterIP") != old.get("clusterIP"):
        return [("spec.clusterIP", f'Invalid value: "{new.get("clusterIP")}": field is immutable')]
    if kind == "Pod":
        mutable = ("containers", "initContainers", "activeDeadlineSeconds", "tolerations",
                   "terminationGracePeriodSeconds", "schedulingGates")
        if {k: v for k, v in new.items() if k not in mutable} != {k: v for k, v in old.items() if k not in mutable}:
            return [("spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                     "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only "
                     "additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be "
                     "set to 1 if it was previously negative)")]
    if meta_changed := _immutable_meta(obj, before):
        return meta_changed
    return []


def _immutable_meta(obj: dict, before: dict) -> list[tuple[str, str]]:
    if obj.get("immutable") is not None and before.get("immutable") and (
            obj.get("data") != before.get("data") or obj.get("stringData")):
        return [("data", "Forbidden: field is immutable when `immutable` is set")]
    return []


def pod_name_causes(pod: dict) -> list[tuple[str, str]]:
    """What a real server refuses in a pod a controller creates (labels, hostname)."""
    causes = []
    for value in (pod["metadata"].get("labels") or {}).values():
        if len(value) > 63:
            causes.append(("metadata.labels", f'Invalid value: "{value}": must be no more than 63 characters'))
    hostname = pod.get("spec", {}).get("hostname", "")
    if len(hostname) > 63:
        causes.append(("spec.hostname", f'Invalid value: "{hostname}": must be no more than 63 characters'))
    return causes
