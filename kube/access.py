"""Checking a Kubernetes target: is it reachable, which version, which of our permissions it lacks.

One SelfSubjectAccessReview per required permission, cluster-wide (no namespace): the control plane
works in every namespace its clusters name, so a grant in one namespace is not enough.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.errors import TargetError

from .client import KubeApi
from .permissions import Permission, required_permissions

ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
# A check runs inside a web request (adding a target): bounded as a whole, not only per call.
CHECK_DEADLINE = 30.0


@dataclass
class AccessReport:
    server_version: str
    missing: list[Permission] = field(default_factory=list)


def server_version(api: KubeApi) -> str:
    version = api.request("GET", "/version")
    text = version.get("gitVersion") or f"v{version.get('major', '?')}.{version.get('minor', '?')}"
    return str(text)[:64]


def allowed(api: KubeApi, permission: Permission) -> bool:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"group": permission.group, "resource": permission.resource,
                                              "verb": permission.verb}}}
    answer = api.request("POST", ACCESS_REVIEW_PATH, body=review)
    return bool((answer.get("status") or {}).get("allowed"))


def check_access(api: KubeApi, *, deadline_seconds: float = CHECK_DEADLINE) -> AccessReport:
    """The server's version and the permissions it denies; TargetError when it cannot be asked in time."""
    started = time.monotonic()
    report = AccessReport(server_version(api))
    for permission in required_permissions():
        if time.monotonic() - started > deadline_seconds:
            raise TargetError(f"the API server answered too slowly: the access check took over "
                              f"{deadline_seconds:.0f} s")
        if not allowed(api, permission):
            report.missing.append(permission)
    return report
