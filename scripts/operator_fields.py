"""Regenerate operatorapi/rec.py and operatorapi/redb.py from the Redis Enterprise operator's CRDs.

    python scripts/operator_fields.py path/to/rec_crd.yaml path/to/redb_crd.yaml [--tag 8.0.20-23] \
        [--meanings re-operator-fields.md] [--used spec.path,...]

The CRDs are those of RedisLabs/redis-enterprise-k8s-docs (crds/rec_crd.yaml, crds/redb_crd.yaml).
Each field keeps its name, type, nested fields, enum, required list and the first sentence of its
description (for top-level fields, the operator's API reference wording when --meanings gives the
table of it). Support levels (USED) are carried over from the current definition, so regenerating
for a new operator release only adds the new fields (as WARN). Subtrees that are Kubernetes core
types (a PodSpec, Volumes, sidecar containers, affinity) are kept as objects the schema does not
describe (ANY): the operator copies them from Kubernetes, and Kubernetes validates them where used.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# A subtree with more schema nodes than this is a Kubernetes core type, kept undescribed.
MAX_DESCRIBED_NODES = 40
LIMIT = 160


def _nodes(schema: dict) -> int:
    count = 1
    for child in (schema.get("properties") or {}).values():
        count += _nodes(child)
    if isinstance(schema.get("items"), dict):
        count += _nodes(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        count += _nodes(schema["additionalProperties"])
    return count


def first_sentence(text: str | None) -> str:
    text = " ".join((text or "").split())
    match = re.match(r"(.+?(?<!e\.g)(?<!i\.e)[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= LIMIT else sentence[:LIMIT - 3].rstrip() + "..."


def _scalar(schema: dict) -> str:
    if schema.get("x-kubernetes-int-or-string"):
        return "QUANTITY"
    kind = schema.get("type")
    if kind == "object" and not schema.get("properties"):
        additional = schema.get("additionalProperties")
        return "MAP" if isinstance(additional, dict) else "ANY"
    return {"string": "STRING", "integer": "INTEGER", "number": "NUMBER", "boolean": "BOOLEAN",
            "object": "OBJECT", "array": "ARRAY"}.get(kind, "ANY")


def read_meanings(path: str | None) -> dict[str, dict[str, str]]:
    """{"REC": {field: meaning}, "REDB": {...}} from the markdown tables of the operator's fields."""
    meanings: dict[str, dict[str, str]] = {"REC": {}, "REDB": {}}
    if not path:
        return meanings
    section = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("## "):
            words = line[3:].split()
            section = words[0] if len(words) > 1 and words[1] == "spec" else None
        elif section and line.startswith("| ") and not line.startswith("| field") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            meanings[section][cells[0]] = cells[1]
    return meanings


def field_source(name: str, schema: dict, used: set[str], path: str, indent: int,
                 meaning: str | None = None) -> str:
    """Python source of one `Field(...)` for `schema`."""
    pad = " " * indent
    kind = _scalar(schema)
    args = [repr(name), kind]
    fields_schema = None
    items = None
    if kind == "OBJECT":
        if _nodes(schema) > MAX_DESCRIBED_NODES or schema.get("x-kubernetes-preserve-unknown-fields"):
            args[1] = "ANY"
        else:
            fields_schema = schema
    elif kind == "MAP":
        items = _scalar(schema["additionalProperties"])
        items = items if items in ("STRING", "QUANTITY", "INTEGER", "BOOLEAN") else "ANY"
    elif kind == "ARRAY":
        element = schema.get("items") or {}
        items = _scalar(element)
        if items == "OBJECT":
            if _nodes(element) > MAX_DESCRIBED_NODES or element.get("x-kubernetes-preserve-unknown-fields"):
                items = "ANY"
            else:
                fields_schema = element
        elif items in ("ARRAY", "MAP"):
            items = "ANY"
    description = first_sentence(meaning or schema.get("description"))
    args.append(repr(description))
    if path in used:
        args.append("USED")
    extra = []
    if items:
        extra.append(f"items={items}")
    if schema.get("enum"):
        extra.append(f"enum={tuple(str(v) for v in schema['enum'])!r}")
    required = (fields_schema or {}).get("required")
    if required:
        extra.append(f"required={tuple(required)!r}")
    head = f"{pad}Field({', '.join(args)}"
    if extra:
        head += ", " + ", ".join(extra)
    if not fields_schema:
        return head + ")"
    children = [field_source(child, sub, used, f"{path}.{child}", indent + 4)
                for child, sub in fields_schema["properties"].items()]
    return head + ", fields=(\n" + ",\n".join(children) + ",\n" + pad + "))"


def module_source(kind: str, variable: str, crd: dict, used: set[str], tag: str, legacy: str,
                  meanings: dict[str, str]) -> str:
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    children = [field_source(name, sub, used, name, 4, meanings.get(name)) for name, sub in spec["properties"].items()]
    return (f'"""Every {kind} spec field the Redis Enterprise operator ({tag}) defines; generated by\n'
            f'scripts/operator_fields.py from the operator\'s CRD, support levels kept by hand."""\n'
            "# ruff: noqa: E501, F401\n"
            "from .field import ANY, ARRAY, BOOLEAN, INTEGER, MAP, NUMBER, OBJECT, QUANTITY, STRING, USED, Field\n\n"
            f'OPERATOR_RELEASE = "{tag}"\n\n'
            f"{variable} = Field('spec', OBJECT, {first_sentence(spec.get('description'))!r}, USED, fields=(\n"
            + ",\n".join(children) + ",\n))\n" + legacy)


def used_paths(module_name: str, variable: str) -> set[str]:
    """Paths marked USED in the current definition (empty if there is none yet)."""
    import importlib
    import sys

    sys.path.insert(0, str(ROOT))
    try:
        module = importlib.import_module(f"operatorapi.{module_name}")
    except ImportError:
        return set()
    return {path for path, field in getattr(module, variable).walk() if field.support == "used"}


def legacy_source(module_name: str) -> str:
    """The hand-kept tail of the current module (LEGACY fields), carried over verbatim."""
    path = ROOT / "operatorapi" / f"{module_name}.py"
    if not path.exists():
        return ""
    text = path.read_text()
    marker = "\n# --- kept by hand"
    return text[text.index(marker):] if marker in text else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rec_crd")
    parser.add_argument("redb_crd")
    parser.add_argument("--tag", default="8.0.20-23", help="the operator release the CRDs come from")
    parser.add_argument("--meanings", help="markdown tables of the operator's fields and their meanings")
    parser.add_argument("--used", default="", help="comma-separated paths to mark USED besides the current ones")
    args = parser.parse_args()
    meanings = read_meanings(args.meanings)
    extra_used = {path.strip() for path in args.used.split(",") if path.strip()}
    for module_name, kind, variable, crd_path in (("rec", "REC", "REC_SPEC", args.rec_crd),
                                                  ("redb", "REDB", "REDB_SPEC", args.redb_crd)):
        crd = yaml.safe_load(Path(crd_path).read_text())
        used = used_paths(module_name, variable) | extra_used
        source = module_source(kind, variable, crd, used, args.tag, legacy_source(module_name), meanings[kind])
        (ROOT / "operatorapi" / f"{module_name}.py").write_text(source)
        print(f"wrote operatorapi/{module_name}.py")


if __name__ == "__main__":
    main()
