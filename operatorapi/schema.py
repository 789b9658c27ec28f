"""OpenAPI v3 schemas and CustomResourceDefinitions generated from the one field definition.

`spec_schema` is a structural schema (every node typed, no `additionalProperties` beside
`properties`): the same text types `spec` in the CRDs and in the REST API's OpenAPI document.
"""
from __future__ import annotations

from dataclasses import dataclass

from .access import ACL_SPEC, BINDING_SPEC, ROLE_SPEC, USER_SPEC
from .field import ANY, ARRAY, MAP, OBJECT, QUANTITY, Field
from .rec import REC_SPEC
from .redb import REDB_SPEC

GROUP = "app.redislabs.com"


def spec_schema(field: Field) -> dict:
    """The OpenAPI v3 schema of `field` and everything under it."""
    schema = _typed(field.type, field)
    if field.description:
        schema = {"description": field.description, **schema}
    return schema


def _typed(kind: str, field: Field) -> dict:
    if kind == QUANTITY:
        return {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    if kind == ANY:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if kind == MAP:
        return {"type": "object", "additionalProperties": _typed(field.items or ANY, field)}
    if kind == ARRAY:
        if field.items == OBJECT:
            return {"type": "array", "items": _object(field)}
        return {"type": "array", "items": _typed(field.items or ANY, field)}
    if kind == OBJECT:
        return _object(field)
    schema: dict = {"type": kind}
    if field.enum:
        schema["enum"] = list(field.enum)
    return schema


def _object(field: Field) -> dict:
    schema: dict = {"type": "object", "properties": {child.name: spec_schema(child) for child in field.fields}}
    if field.required:
        schema["required"] = list(field.required)
    return schema


@dataclass(frozen=True)
class Column:
    name: str
    json_path: str
    type: str = "string"

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "jsonPath": self.json_path}


@dataclass(frozen=True)
class Kind:
    """One custom resource kind: its names, versions and the columns `kubectl get` shows."""

    kind: str
    plural: str
    short_name: str
    versions: tuple[str, ...]  # the first is the storage version
    spec: Field
    columns: tuple[Column, ...]
    description: str
    status: dict

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"

    def registry_names(self) -> dict:
        """The names core/kinds.py's Kind takes from the resource: kind, upper-case short name, apiVersions."""
        return {"api_kind": self.kind, "short_name": self.short_name.upper(),
                "api_versions": tuple(f"{GROUP}/{version}" for version in self.versions)}


_CONDITIONS = {"type": "array", "description": "Conditions with type, status, reason, message and lastTransitionTime.",
               "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
_STATUS_COMMON = {
    "specStatus": {"type": "string", "description": "Whether the desired specification is valid (Valid or Invalid)."},
    "observedGeneration": {"type": "integer", "description": "The generation the status was observed for."},
    "conditions": _CONDITIONS,
}
AGE = Column("Age", ".metadata.creationTimestamp", "date")

REC = Kind(
    kind="RedisEnterpriseCluster", plural="redisenterpriseclusters", short_name="rec", versions=("v1", "v1alpha1"),
    spec=REC_SPEC,
    description="A Redis Enterprise cluster (REC): quorum members that watch and fail over its databases.",
    columns=(Column("Nodes", ".spec.nodes", "integer"), Column("Version", ".spec.redisEnterpriseImageSpec.versionTag"),
             Column("State", ".status.state"), Column("Spec Status", ".status.specStatus"),
             Column("License State", ".status.licenseStatus.licenseState"), AGE),
    status={"state": {"type": "string", "description": "State of the cluster (PendingCreation, Initializing, "
                                                       "Running, Error, Invalid)."},
            **_STATUS_COMMON,
            "licenseStatus": {"type": "object", "description": "State of the cluster's license.",
                              "x-kubernetes-preserve-unknown-fields": True}},
)
REDB = Kind(
    kind="RedisEnterpriseDatabase", plural="redisenterprisedatabases", short_name="redb", versions=("v1alpha1",),
    spec=REDB_SPEC, description="A Redis Enterprise database (REDB) on a cluster.",
    columns=(Column("Version", ".spec.redisVersion"), Column("Port", ".spec.databasePort", "integer"),
             Column("Cluster", ".spec.redisEnterpriseCluster.name"), Column("Shards", ".spec.shardCount", "integer"),
             Column("Status", ".status.state"), Column("Spec Status", ".status.specStatus"), AGE),
    status={"state": {"type": "string", "description": "The status of the database (pending, active, "
                                                       "active-change-pending, ..., Error, Invalid)."},
            **_STATUS_COMMON,
            "version": {"type": "string", "description": "The Redis version the database runs."}},
)
KINDS = (REC, REDB)
_STATUS_ANY = {"observedGeneration": {"type": "integer", "description": "The generation the status was observed for."}}
# Configuration-only kinds (docs/acl.md): CRDs so their YAML is accepted by kubectl; not synced both ways yet.
ACCESS_KINDS = (
    Kind(kind="RedisEnterpriseACL", plural="redisenterpriseacls", short_name="reacl", versions=("v1alpha1",),
         spec=ACL_SPEC, description="A Redis ACL rule that roles grant on databases.",
         columns=(Column("ACL", ".spec.acl"), AGE), status=_STATUS_ANY),
    Kind(kind="RedisEnterpriseRole", plural="redisenterpriseroles", short_name="rerole", versions=("v1alpha1",),
         spec=ROLE_SPEC, description="A role: an ACL on databases, and a management role on them.",
         columns=(Column("Management Role", ".spec.managementRole"), Column("ACL", ".spec.acl.name"), AGE),
         status=_STATUS_ANY),
    Kind(kind="RedisEnterpriseUser", plural="redisenterpriseusers", short_name="reuser", versions=("v1alpha1",),
         spec=USER_SPEC, description="A data-plane user.",
         columns=(Column("Username", ".spec.username"), Column("Email", ".spec.email"), AGE), status=_STATUS_ANY),
    Kind(kind="RedisEnterpriseRoleBinding", plural="redisenterpriserolebindings", short_name="rerb",
         versions=("v1alpha1",), spec=BINDING_SPEC, description="Gives a RedisEnterpriseRole to users.",
         columns=(Column("Role", ".spec.roleRef.name"), AGE), status=_STATUS_ANY),
)


def crd(kind: Kind) -> dict:
    """The CustomResourceDefinition (apiextensions.k8s.io/v1) of `kind`."""
    schema = {
        "type": "object",
        "description": kind.description,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema(kind.spec),
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": kind.status},
        },
    }
    versions = [{"name": name, "served": True, "storage": index == 0, "schema": {"openAPIV3Schema": schema},
                 "subresources": {"status": {}}, "additionalPrinterColumns": [c.as_dict() for c in kind.columns]}
                for index, name in enumerate(kind.versions)]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.crd_name},
        "spec": {
            "group": GROUP,
            "names": {"kind": kind.kind, "listKind": f"{kind.kind}List", "plural": kind.plural,
                      "singular": kind.kind.lower(), "shortNames": [kind.short_name]},
            "scope": "Namespaced",
            "versions": versions,
        },
    }


def api_components() -> dict[str, dict]:
    """Named OpenAPI components for the REST API (`spec` of a cluster and of a database): the CRDs' schemas."""
    return {f"{kind.kind}Spec": spec_schema(kind.spec) for kind in KINDS}


def api_reference(kind: Kind) -> dict:
    """A reference to `kind`'s spec component, for a serializer field."""
    return {"$ref": f"#/components/schemas/{kind.kind}Spec"}
