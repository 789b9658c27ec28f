"""Installing the REC/REDB CustomResourceDefinitions on a target, when the control plane may.

Done when a target is added (or its connection changes), so `kubectl get rec,redb` and GitOps tools
know the kinds. The permission is optional: the deploy bundle installs the same CRDs, and a cluster
administrator can apply deploy/kubernetes/crds/ instead; lacking it is a note, not a failure.
"""
from __future__ import annotations

from core.errors import TargetError
from operatorapi.schema import ACCESS_KINDS, crd
from operatorapi.schema import KINDS as MANAGED_KINDS

from .access import allowed
from .client import KubeApi
from .permissions import Permission

GROUP = "apiextensions.k8s.io"
CRD_PERMISSIONS = [Permission(GROUP, "customresourcedefinitions", verb) for verb in ("create", "patch")]
MANUAL = "install them with `kubectl apply -f deploy/kubernetes/crds/` (deploy/bundle.yaml includes them)"


KINDS = (*MANAGED_KINDS, *ACCESS_KINDS)


def install_crds(api: KubeApi) -> list[str]:
    """Apply the CRDs: REC, REDB and the access kinds (server-side apply, idempotent); notes for the user about
    what could not be done."""
    names = ", ".join(kind.crd_name for kind in KINDS)
    try:
        lacking = [str(permission) for permission in CRD_PERMISSIONS if not allowed(api, permission)]
        if lacking:
            return [f"the CustomResourceDefinitions {names} were not installed: the control plane lacks "
                    f"{', '.join(lacking)}; {MANUAL}"]
        for kind in KINDS:
            api.apply(crd(kind))
    except TargetError as exc:
        return [f"the CustomResourceDefinitions {names} could not be installed: {exc}; {MANUAL}"]
    return []
