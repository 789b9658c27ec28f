"""The Kubernetes 1.32 OpenAPI schemas of the built-in kinds, as the emulator needs them.

They ship inside the `kubernetes-validate` package (JSON Schema `$defs`). The emulator uses them for
server-side apply (which lists merge by `x-kubernetes-list-map-keys`, which are sets, which are
atomic) and to serve the OpenAPI v3 documents `kubectl` reads.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import kubernetes_validate

SCHEMA_VERSION = "v1.32.0"
_DEFINITIONS = (Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
                / f"{SCHEMA_VERSION}-local" / "_definitions.json")
_REF = "#/$defs/"


@cache
def definitions() -> dict[str, dict]:
    with open(_DEFINITIONS) as handle:
        return json.load(handle)["$defs"]


@cache
def definition_name(group: str, version: str, kind: str) -> str | None:
    """The `$defs` name of a kind (e.g. `io.k8s.api.apps.v1.StatefulSet`)."""
    found = [name for name, schema in definitions().items()
             if any((g["group"], g["version"], g["kind"]) == (group, version, kind)
                    for g in schema.get("x-kubernetes-group-version-kind", []))]
    # Built-in kinds live under io.k8s.api.*; CustomResourceDefinition under io.k8s.apiextensions-apiserver.*.
    return next((n for n in found if ".api." in n), found[0] if found else None)


def resolve(schema: dict | None) -> dict | None:
    """Follow `$ref`s to the schema itself."""
    while schema and "$ref" in schema:
        ref = schema["$ref"]
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**definitions()[ref[len(_REF):]], **{k: v for k, v in extra.items()
                                                        if k.startswith("x-kubernetes")}}
    return schema


def kind_schema(group: str, version: str, kind: str) -> dict | None:
    name = definition_name(group, version, kind)
    return definitions()[name] if name else None


def child(schema: dict | None, key: str) -> dict | None:
    """The schema of field `key` of an object (or of any value of a map)."""
    schema = resolve(schema)
    if not schema:
        return None
    if key in (schema.get("properties") or {}):
        return resolve(schema["properties"][key])
    extra = schema.get("additionalProperties")
    return resolve(extra) if isinstance(extra, dict) else None


def items(schema: dict | None) -> dict | None:
    schema = resolve(schema)
    return resolve(schema.get("items")) if schema else None


def list_type(schema: dict | None) -> tuple[str, list[str]]:
    """("map", keys) | ("set", []) | ("atomic", []): how server-side apply merges a list."""
    schema = resolve(schema) or {}
    kind = schema.get("x-kubernetes-list-type", "atomic")
    return kind, list(schema.get("x-kubernetes-list-map-keys") or [])


def is_atomic_map(schema: dict | None) -> bool:
    schema = resolve(schema) or {}
    return schema.get("x-kubernetes-map-type") == "atomic"


def openapi_components(root_names: list[str]) -> dict[str, dict]:
    """The schemas reachable from `root_names`, rewritten as OpenAPI v3 components."""
    found: dict[str, dict] = {}
    pending = list(root_names)
    while pending:
        name = pending.pop()
        if name in found or name not in definitions():
            continue
        text = json.dumps(definitions()[name])
        found[name] = json.loads(text.replace(_REF, "#/components/schemas/"))
        pending.extend(part.split('"', 1)[0] for part in text.split(_REF)[1:])
    return found


def prune_unknown(value, schema, path: str = "") -> list[str]:
    """Remove from `value` the fields its schema does not declare; returns their paths (`spec.foo`)."""
    schema = resolve(schema)
    if not schema:
        return []
    found: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties is None and not isinstance(extra, dict):
            return []  # free-form (no declared fields)
        for key in list(value):
            field_path = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                found += prune_unknown(value[key], properties[key], field_path)
            elif isinstance(extra, dict):
                found += prune_unknown(value[key], extra, field_path)
            elif not schema.get("x-kubernetes-preserve-unknown-fields"):
                del value[key]
                found.append(field_path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += prune_unknown(item, schema.get("items"), f"{path}[{index}]")
    return found
