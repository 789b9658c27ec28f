"""The four access kinds, as core/kinds.py lists them; registered in AccessConfig.ready."""
from __future__ import annotations

from core import kinds
from operatorapi.schema import GROUP

from . import services
from .models import ACL, BINDING, KIND_WORDS, ROLE, USER, AccessObject

API_VERSION = f"{GROUP}/v1alpha1"
SHORT_NAMES = {ACL: "reacl", ROLE: "rerole", USER: "reuser", BINDING: "rerb"}


def _kind(api_kind: str) -> kinds.DocumentKind:
    def apply(**fields):
        return services.apply_object(api_kind, **fields)

    return kinds.DocumentKind(
        name=KIND_WORDS[api_kind], api_kind=api_kind, short_name=SHORT_NAMES[api_kind], api_versions=(API_VERSION,),
        queryset=lambda: AccessObject.objects.filter(api_kind=api_kind),
        apply=apply, request_deletion=services.delete_object,
    )


ACCESS_KINDS = [_kind(api_kind) for api_kind in (ACL, ROLE, USER, BINDING)]
