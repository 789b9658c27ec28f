"""deploy/kubernetes/crds/: the REC and REDB CustomResourceDefinitions are valid, structural, cover every
operator field, and admit the examples; they are generated from operatorapi/ and shipped in the bundle."""
from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from operatorapi.rec import REC_SPEC
from operatorapi.redb import REDB_SPEC
from operatorapi.schema import ACCESS_KINDS, KINDS, crd

ALL_KINDS = (*KINDS, *ACCESS_KINDS)

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "deploy" / "kubernetes" / "crds"
# Keys a structural schema may not set inside anyOf/allOf/oneOf/not (apiextensions "structural schema" rules).
FORBIDDEN_IN_LOGIC = {"description", "type", "default", "additionalProperties", "nullable"}


def committed(plural: str) -> dict:
    return yaml.safe_load((CRDS / f"{plural}.yaml").read_text())


def structural_problems(schema: dict, path: str = "") -> list[str]:
    """Why `schema` is not structural: untyped nodes, properties beside additionalProperties, typed anyOf."""
    problems = []
    untyped_ok = schema.get("x-kubernetes-int-or-string") or schema.get("x-kubernetes-preserve-unknown-fields")
    if "type" not in schema and not untyped_ok:
        problems.append(f"{path or '<root>'}: no type")
    if schema.get("properties") and "additionalProperties" in schema:
        problems.append(f"{path}: both properties and additionalProperties")
    if schema.get("type") == "array" and "items" not in schema:
        problems.append(f"{path}: array without items")
    for logic in ("anyOf", "allOf", "oneOf"):
        for branch in schema.get(logic, []):
            wrong = set(branch) & FORBIDDEN_IN_LOGIC
            if wrong and not (schema.get("x-kubernetes-int-or-string") and set(branch) == {"type"}):
                problems.append(f"{path}.{logic}: sets {sorted(wrong)}")
    for name, child in (schema.get("properties") or {}).items():
        problems += structural_problems(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        problems += structural_problems(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        problems += structural_problems(schema["additionalProperties"], f"{path}{{}}")
    return problems


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda kind: kind.short_name)
def test_the_committed_crd_is_the_generated_one_and_validates_strictly(kind):
    document = committed(kind.plural)
    assert document == crd(kind), "run scripts/deploy_bundle.py"
    kubernetes_validate.validate(document, "1.30.0", strict=True)


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda kind: kind.short_name)
def test_the_schema_is_structural(kind):
    for version in committed(kind.plural)["spec"]["versions"]:
        assert structural_problems(version["schema"]["openAPIV3Schema"]) == []


def test_the_structural_check_catches_what_the_api_server_refuses():
    assert structural_problems({"type": "object", "properties": {"a": {"description": "untyped"}}}) == [".a: no type"]
    assert structural_problems({"type": "object", "properties": {"a": {"type": "string"}},
                                "additionalProperties": {"type": "string"}}) == [": both properties and "
                                                                                 "additionalProperties"]
    assert structural_problems({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}]}}}) == [
        ".a: no type", ".a.anyOf: sets ['type']"]


def test_names_versions_scope_subresource_and_columns():
    rec, redb = committed("redisenterpriseclusters"), committed("redisenterprisedatabases")
    assert rec["metadata"]["name"] == "redisenterpriseclusters.app.redislabs.com"
    assert redb["metadata"]["name"] == "redisenterprisedatabases.app.redislabs.com"
    assert rec["spec"]["names"]["shortNames"] == ["rec"] and redb["spec"]["names"]["shortNames"] == ["redb"]
    assert rec["spec"]["scope"] == redb["spec"]["scope"] == "Namespaced"
    assert [(v["name"], v["storage"]) for v in rec["spec"]["versions"]] == [("v1", True), ("v1alpha1", False)]
    assert [(v["name"], v["storage"]) for v in redb["spec"]["versions"]] == [("v1alpha1", True)]
    for document in (rec, redb):
        for version in document["spec"]["versions"]:
            assert version["subresources"] == {"status": {}}
    columns = {doc["spec"]["names"]["shortNames"][0]: [c["name"].upper() for c in doc["spec"]["versions"][0][
        "additionalPrinterColumns"]] for doc in (rec, redb)}
    assert columns == {"rec": ["NODES", "VERSION", "STATE", "SPEC STATUS", "LICENSE STATE", "AGE"],
                       "redb": ["VERSION", "PORT", "CLUSTER", "SHARDS", "STATUS", "SPEC STATUS", "AGE"]}


@pytest.mark.parametrize(("plural", "definition"), [("redisenterpriseclusters", REC_SPEC),
                                                     ("redisenterprisedatabases", REDB_SPEC)])
def test_every_defined_field_is_in_the_schema(plural, definition):
    spec = committed(plural)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    for path, _field in definition.walk():
        node = spec
        for part in path.split("."):
            node = node.get("items", node)
            node = node["properties"][part]
        assert node.get("type") or node.get("x-kubernetes-int-or-string"), path


def spec_documents() -> list[tuple[str, dict]]:
    found = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            if document:
                found.append((f"{path.name}[{index}]", document))
    return found


@pytest.mark.parametrize(("where", "document"), spec_documents(), ids=[w for w, _ in spec_documents()])
def test_every_example_is_admitted_by_its_crd(where, document):
    (kind,) = [k for k in ALL_KINDS if k.kind == document["kind"]]
    schema = committed(kind.plural)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    jsonschema.validate(document, schema)


def test_the_crd_schema_refuses_a_wrong_type():
    schema = committed("redisenterprisedatabases")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    document = {"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseDatabase",
                "metadata": {"name": "x"}, "spec": {"shardCount": "two", "persistence": "sometimes"}}
    errors = sorted(e.message for e in jsonschema.Draft7Validator(schema).iter_errors(document))
    assert len(errors) == 2, errors


def test_the_bundle_installs_every_crd():
    bundle = [doc for doc in yaml.safe_load_all((ROOT / "deploy" / "bundle.yaml").read_text()) if doc]
    installed = {doc["metadata"]["name"]: doc for doc in bundle if doc["kind"] == "CustomResourceDefinition"}
    assert set(installed) == {f"{kind.plural}.app.redislabs.com" for kind in ALL_KINDS}
    assert "namespace" not in installed["redisenterpriseclusters.app.redislabs.com"]["metadata"]


def test_the_field_generator_keeps_types_enums_required_support_and_the_hand_kept_part():
    import importlib.util

    spec = importlib.util.spec_from_file_location("operator_fields", ROOT / "scripts" / "operator_fields.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    big = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(50)}}
    operator_crd = {"spec": {"versions": [{"name": "v1", "storage": True, "schema": {"openAPIV3Schema": {
        "properties": {"spec": {"type": "object", "description": "The spec. More words.", "properties": {
            "size": {"type": "integer", "description": "How big, e.g. 3. Details follow."},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "quota": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "podSpec": big,
            "ha": {"type": "object", "required": ["grace"], "properties": {"grace": {"type": "integer"}}},
        }}}}}}]}}
    tail = "\n# --- kept by hand (scripts/operator_fields.py carries this part over) ---\nLEGACY = 1\n"
    source = script.module_source("REC", "SPEC", operator_crd, {"size", "ha.grace"}, "9.9.9-1", tail,
                                  {"mode": "The mode from the API reference."})
    namespace: dict = {}
    exec(compile(source.replace("from .field", "from operatorapi.field"), "generated", "exec"), namespace)
    generated = namespace["SPEC"]
    assert [(f.name, f.type, f.support) for f in generated.fields] == [
        ("size", "integer", "used"), ("mode", "string", "warn"), ("quota", "quantity", "warn"),
        ("tags", "map", "warn"), ("podSpec", "any", "warn"), ("ha", "object", "warn")]
    assert generated["size"].description == "How big, e.g. 3."
    assert generated["mode"].description == "The mode from the API reference." and generated["mode"].enum == ("a", "b")
    assert generated["ha"].required == ("grace",) and generated["ha"]["grace"].support == "used"
    assert namespace["LEGACY"] == 1 and namespace["OPERATOR_RELEASE"] == "9.9.9-1"
