"""drf-spectacular hook: the `spec` components of the OpenAPI document are the CRDs' schemas, verbatim.

Added after spectacular's own post-processing so its enum extraction leaves them as they are: the
served `RedisEnterpriseClusterSpec`/`RedisEnterpriseDatabaseSpec` equal the CRDs' `spec` schemas.
"""
from __future__ import annotations

from operatorapi.schema import api_components


def add_operator_specs(result: dict, generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {}).update(api_components())
    return result
