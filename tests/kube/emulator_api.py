"""What the emulator serves: the resource table and the API's error shape (`Status`).

Shared by the request handling (emulator.py), discovery, defaulting, apply and admission modules.
"""
from __future__ import annotations

# (api prefix, plural) -> (kind, namespaced, has status subresource)
RESOURCES: dict[tuple[str, str], tuple[str, bool, bool]] = {
    ("api/v1", "namespaces"): ("Namespace", False, True),
    ("api/v1", "pods"): ("Pod", True, True),
    ("api/v1", "services"): ("Service", True, True),
    ("api/v1", "secrets"): ("Secret", True, False),
    ("api/v1", "configmaps"): ("ConfigMap", True, False),
    ("api/v1", "serviceaccounts"): ("ServiceAccount", True, False),
    ("api/v1", "persistentvolumeclaims"): ("PersistentVolumeClaim", True, True),
    ("api/v1", "resourcequotas"): ("ResourceQuota", True, True),
    ("api/v1", "events"): ("Event", True, False),
    ("api/v1", "endpoints"): ("Endpoints", True, False),
    ("apis/apps/v1", "statefulsets"): ("StatefulSet", True, True),
    ("apis/policy/v1", "poddisruptionbudgets"): ("PodDisruptionBudget", True, True),
    ("apis/rbac.authorization.k8s.io/v1", "roles"): ("Role", True, False),
    ("apis/rbac.authorization.k8s.io/v1", "rolebindings"): ("RoleBinding", True, False),
    ("apis/networking.k8s.io/v1", "ingresses"): ("Ingress", True, True),
    ("apis/networking.k8s.io/v1", "networkpolicies"): ("NetworkPolicy", True, False),
    ("apis/storage.k8s.io/v1", "storageclasses"): ("StorageClass", False, False),
    ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions"): ("CustomResourceDefinition", False, True),
}
KIND_TO_RESOURCE = {kind: (prefix, plural) for (prefix, plural), (kind, _, _) in RESOURCES.items()}
# What `kubectl get svc` and friends resolve through discovery.
SHORT_NAMES = {"namespaces": ["ns"], "pods": ["po"], "services": ["svc"], "configmaps": ["cm"],
               "serviceaccounts": ["sa"], "persistentvolumeclaims": ["pvc"], "resourcequotas": ["quota"],
               "events": ["ev"], "endpoints": ["ep"], "statefulsets": ["sts"], "poddisruptionbudgets": ["pdb"],
               "ingresses": ["ing"], "storageclasses": ["sc"],
               "customresourcedefinitions": ["crd", "crds"]}


def group_version(prefix: str) -> tuple[str, str]:
    """("", "v1") for `api/v1`, ("apps", "v1") for `apis/apps/v1`."""
    if prefix == "api/v1":
        return "", "v1"
    _, group, version = prefix.split("/")
    return group, version


def qualified(prefix: str, plural: str) -> str:
    """How error messages name a resource: `pods`, `statefulsets.apps`."""
    group, _ = group_version(prefix)
    return f"{plural}.{group}" if group else plural


def api_version(prefix: str) -> str:
    return "v1" if prefix == "api/v1" else prefix.split("/", 1)[1]


class ApiError(Exception):
    """A failed request, answered as the API server does: a `Status` object with code and reason."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            status["details"] = self.details
        return status


def invalid(kind: str, name: str, causes: list[tuple[str, str]], group: str = "") -> ApiError:
    """422 Invalid with one cause per (field, message), worded like the API server (`StatefulSet.apps "x"`)."""
    text = ", ".join(f"{path}: {message}" for path, message in causes)
    subject = f'{kind}.{group} "{name}"' if group else f'{kind} "{name}"'
    return ApiError(422, "Invalid", f"{subject} is invalid: {text}" if len(causes) == 1 else
                    f"{subject} is invalid: [{text}]",
                    {"name": name, "group": group, "kind": kind,
                     "causes": [{"reason": "FieldValueInvalid", "message": message, "field": path}
                                for path, message in causes]})
