"""The one validator for each access kind: every write path (YAML, API, dashboard) checks specs here.
The fields are the operator's (operatorapi/access.py, which the CRDs are generated from too)."""
from __future__ import annotations

from core.validation import FieldSet, Problems, check_fields, expect_list, expect_mapping, expect_string
from operatorapi.access import ACL_SPEC, BINDING_SPEC, ROLE_SPEC, USER_SPEC

from .models import ACL, BINDING, ROLE, USER
from .rules import rule_problems

MANAGEMENT_ROLES = ("DBMember", "DBViewer", "None")
DATABASE_KIND = "RedisEnterpriseDatabase"
MAX_REFERENCES = 100
_NAME = 253


def _required(problems: Problems, value: object, path: str, max_length: int) -> str | None:
    if value is None:
        problems.add(path, "is required")
        return None
    return expect_string(problems, value, path, max_length=max_length)


def _reference(problems: Problems, value: object, path: str, kind: str) -> None:
    """`{kind: <kind>, name: ...}`, the kind optional (it defaults to `kind`)."""
    reference = expect_mapping(problems, value, path)
    if reference is None:
        return
    check_fields(problems, reference, FieldSet.of(["kind", "name"], unused=["apiGroup", "namespace"]), path)
    if reference.get("kind", kind) != kind:
        problems.add(f"{path}.kind", f"must be {kind}")
    _required(problems, reference.get("name"), f"{path}.name", _NAME)


def _references(problems: Problems, value: object, path: str, kind: str, *, required: bool) -> None:
    items = expect_list(problems, value, path)
    if items is None:
        if required and value is None:
            problems.add(path, "is required")
        return
    if required and not items:
        problems.add(path, "must name at least one")
    if len(items) > MAX_REFERENCES:
        problems.add(path, f"at most {MAX_REFERENCES} entries")
        return
    for index, item in enumerate(items):
        _reference(problems, item, f"{path}[{index}]", kind)


def check_acl(problems: Problems, spec: dict) -> None:
    check_fields(problems, spec, FieldSet.defined(ACL_SPEC), "spec")
    if spec.get("acl") is None:
        problems.add("spec.acl", "is required (a Redis ACL rule, e.g. +@read ~*)")
        return
    for message in rule_problems(spec["acl"]):
        problems.add("spec.acl", message)


def check_role(problems: Problems, spec: dict) -> None:
    check_fields(problems, spec, FieldSet.defined(ROLE_SPEC), "spec")
    role = spec.get("managementRole", "None")
    if role not in MANAGEMENT_ROLES:
        problems.add("spec.managementRole", f"must be one of {', '.join(MANAGEMENT_ROLES)} (got {role!r})")
    if spec.get("scopes") is not None:
        _references(problems, spec["scopes"], "spec.scopes", DATABASE_KIND, required=False)
    if spec.get("acl") is not None:
        _reference(problems, spec["acl"], "spec.acl", ACL)


def check_user(problems: Problems, spec: dict) -> None:
    check_fields(problems, spec, FieldSet.defined(USER_SPEC), "spec")
    username = _required(problems, spec.get("username"), "spec.username", 128)
    if username and (username in ("default",) or username.startswith("cp-") or any(c.isspace() for c in username)
                     or username[:1] in "><#!~&%+-@("):
        problems.add("spec.username", "must not be default, start with cp- (the control plane's own users) or "
                                      "a rule character, nor contain spaces")
    email = expect_string(problems, spec.get("email"), "spec.email", max_length=254)
    if email and "@" not in email:
        problems.add("spec.email", "must be an email address")
    if spec.get("passwordSecrets") is not None:
        secrets = expect_list(problems, spec["passwordSecrets"], "spec.passwordSecrets") or []
        if len(secrets) > 2:
            problems.add("spec.passwordSecrets", "at most 2 (the password and the next one, for rotation)")
        for index, item in enumerate(secrets):
            path = f"spec.passwordSecrets[{index}]"
            secret = expect_mapping(problems, item, path)
            if secret is not None:
                check_fields(problems, secret, FieldSet.of(["name"], unused=["key"]), path)
                _required(problems, secret.get("name"), f"{path}.name", _NAME)


def check_binding(problems: Problems, spec: dict) -> None:
    check_fields(problems, spec, FieldSet.defined(BINDING_SPEC), "spec")
    if spec.get("roleRef") is None:
        problems.add("spec.roleRef", "is required")
    else:
        _reference(problems, spec["roleRef"], "spec.roleRef", ROLE)
    _references(problems, spec.get("subjects"), "spec.subjects", USER, required=True)


CHECKS = {ACL: check_acl, ROLE: check_role, USER: check_user, BINDING: check_binding}


def checked_spec(api_kind: str, spec: object) -> Problems:
    """The problems of `spec` for `api_kind` (empty when valid); warnings included."""
    problems = Problems()
    if not isinstance(spec, dict):
        problems.add("spec", "must be an object (a mapping of fields)")
        return problems
    CHECKS[api_kind](problems, spec)
    return problems
