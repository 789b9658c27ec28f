"""REC/REDB YAML as a user writes it, for the tests that apply a file (`apply -f`, the dashboard)."""
from __future__ import annotations

import yaml


def rec_and_redb(cluster: str, database: str, database_spec: dict, *, nodes: int = 3) -> str:
    """A cluster of `nodes` and one database on it, as two YAML documents."""
    return yaml.safe_dump_all([
        {"apiVersion": "app.redislabs.com/v1", "kind": "RedisEnterpriseCluster",
         "metadata": {"name": cluster}, "spec": {"nodes": nodes}},
        {"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseDatabase",
         "metadata": {"name": database}, "spec": database_spec},
    ], sort_keys=False)


def read_access(namespace: str, database: str, *, acl: str = "+@read ~app:*", role: str = "reader",
                management_role: str | None = None, email: str | None = None,
                user_spec: dict | None = None) -> str:
    """The operator's four access documents, as a user writes them: the ACL `app-read` (`acl`), a role over
    `database` with it, the user `alice` and the binding `alice-reads` of her to the role."""
    def document(kind: str, name: str, spec: dict) -> dict:
        return {"apiVersion": "app.redislabs.com/v1alpha1", "kind": kind,
                "metadata": {"name": name, "namespace": namespace}, "spec": spec}

    role_spec = {"scopes": [{"kind": "RedisEnterpriseDatabase", "name": database}],
                 "acl": {"kind": "RedisEnterpriseACL", "name": "app-read"}}
    return yaml.safe_dump_all([
        document("RedisEnterpriseACL", "app-read", {"acl": acl}),
        document("RedisEnterpriseRole", role, {**({"managementRole": management_role} if management_role else {}),
                                               **role_spec}),
        document("RedisEnterpriseUser", "alice", {"username": "alice", **({"email": email} if email else {}),
                                                  **(user_spec or {})}),
        document("RedisEnterpriseRoleBinding", "alice-reads",
                 {"roleRef": {"kind": "RedisEnterpriseRole", "name": role},
                  "subjects": [{"kind": "RedisEnterpriseUser", "name": "alice"}]}),
    ], sort_keys=False)
