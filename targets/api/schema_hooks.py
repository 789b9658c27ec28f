"""drf-spectacular hook: the `spec` components of the OpenAPI document are the CRDs' schemas, verbatim.

Added after spectacular's own post-processing so its enum extraction leaves them as they are: the
served `RedisEnterpriseClusterSpec`/`RedisEnterpriseDatabaseSpec` equal the CRDs' `spec` schemas.
A PATCH body's spec may send a top-level key as null (to remove it): its `...SpecPatch` variant says so.
"""
from __future__ import annotations

import copy

from operatorapi.schema import api_components

REF = "#/components/schemas/"


def add_operator_specs(result: dict, generator, request, public) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in api_components().items():
        schemas[name] = schema
        schemas[f"{name}Patch"] = _nullable_top_level(schema)
    for name, component in schemas.items():
        spec = (component.get("properties") or {}).get("spec") if name.startswith("Patched") else None
        for holder in [spec] + list((spec or {}).get("allOf", [])):
            if isinstance(holder, dict) and holder.get("$ref", "").removeprefix(REF) in api_components():
                holder["$ref"] += "Patch"
    return result


def _nullable_top_level(schema: dict) -> dict:
    patch = copy.deepcopy(schema)
    for prop in patch["properties"].values():
        prop["nullable"] = True
    return patch
