"""The spec fields of the operator's access kinds (app.redislabs.com/v1alpha1): RedisEnterpriseACL,
RedisEnterpriseRole, RedisEnterpriseUser, RedisEnterpriseRoleBinding, as its examples and docs show them.
Kept by hand (the operator's CRDs for these are not in operatorapi's source); all used (docs/acl.md)."""
from .field import ARRAY, OBJECT, STRING, USED, Field


def _reference(name: str, description: str, kind: str) -> Field:
    return Field(name, OBJECT, description, USED, required=("name",), fields=(
        Field("kind", STRING, f"The kind referred to (default {kind}).", USED, enum=(kind,)),
        Field("name", STRING, f"The name of the {kind}.", USED),
    ))


ACL_SPEC = Field("spec", OBJECT, "A Redis ACL rule granting commands, keys and channels.", USED, required=("acl",),
                 fields=(Field("acl", STRING, "The ACL rule, e.g. +@read ~*.", USED),))
ROLE_SPEC = Field("spec", OBJECT, "A role: data access to databases, and a management role on them.", USED, fields=(
    Field("managementRole", STRING, "The management role: DBMember, DBViewer or None.", USED,
          enum=("DBMember", "DBViewer", "None")),
    Field("scopes", ARRAY, "The databases for which this role grants data-plane access.", USED, items=OBJECT,
          required=("name",), fields=(
              Field("kind", STRING, "RedisEnterpriseDatabase.", USED, enum=("RedisEnterpriseDatabase",)),
              Field("name", STRING, "The name of the database.", USED),
          )),
    _reference("acl", "The data-plane permissions (ACL) granted by this role.", "RedisEnterpriseACL"),
))
USER_SPEC = Field("spec", OBJECT, "A user with a data-plane password.", USED, required=("username",), fields=(
    Field("email", STRING, "The email address for the user.", USED),
    Field("username", STRING, "The username associated with the user.", USED),
    Field("passwordSecrets", ARRAY, "Names of one or more secrets holding the user's password.", USED,
          items=OBJECT, required=("name",), fields=(Field("name", STRING, "The name of the Secret.", USED),)),
))
BINDING_SPEC = Field("spec", OBJECT, "Gives a role to users.", USED, required=("roleRef", "subjects"), fields=(
    _reference("roleRef", "A reference to a RedisEnterpriseRole object.", "RedisEnterpriseRole"),
    Field("subjects", ARRAY, "The users the role is given to.", USED, items=OBJECT, required=("name",), fields=(
        Field("kind", STRING, "RedisEnterpriseUser.", USED, enum=("RedisEnterpriseUser",)),
        Field("name", STRING, "The name of the RedisEnterpriseUser.", USED),
    )),
))
