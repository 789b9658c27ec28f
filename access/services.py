"""Writes of access objects (create, update, delete, password reveal/rotate), each validated by the one
validator, audited in the timeline, and followed by a reconcile of the databases they may change."""
from __future__ import annotations

from django.db import transaction

from clusters.models import Cluster, generate_password
from core.errors import TargetError
from core.hooks import request_reconcile
from core.secrets import secret_values
from core.validation import Problems, object_name_problem
from databases.models import Database
from targets.writes import WriteResult, actor_label
from timeline.models import Event

from . import internal, passwords, plan
from .models import ACL, BINDING, ROLE, USER, AccessObject
from .plan import AccessState, WantedUser
from .validation import checked_spec

DEFAULT_NAMESPACE = "default"


def audit(obj: AccessObject, reason: str, message: str, actor) -> None:
    """An event in the object's timeline (never a password)."""
    Event.objects.create(object_kind=obj.kind, object_id=obj.pk, object_name=obj.name, reason=reason,
                         message=message, actor=actor_label(actor))


def _reconcile_namespace(namespace: str) -> None:
    """Every database of the namespace may gain or lose users: ask for a reconcile of each; and of each cluster
    there, whose reconcile writes the namespace's access objects out as custom resources on a Kubernetes target
    (kube/crsync/access.py) even before it has databases."""
    for cluster in Cluster.objects.filter(namespace=namespace, deletion_requested_at__isnull=True) \
            .select_related("target"):
        request_reconcile(cluster)
    for database in Database.objects.filter(cluster__namespace=namespace, deletion_requested_at__isnull=True) \
            .select_related("cluster__target"):
        request_reconcile(database)


def apply_object(api_kind: str, *, name: str, namespace: str | None, spec: dict, actor,
                 labels: dict | None = None, annotations: dict | None = None) -> WriteResult:
    """Create or update one access object by (kind, namespace, name)."""
    problems = checked_spec(api_kind, spec)
    name_problem = object_name_problem(name)
    if name_problem:
        problems.add("name", name_problem)
    problems.raise_if_any()
    namespace = namespace or DEFAULT_NAMESPACE
    with transaction.atomic():
        obj = AccessObject.objects.select_for_update().filter(api_kind=api_kind, namespace=namespace,
                                                              name=name).first()
        metadata = {"labels": labels or {}, "annotations": annotations or {}}
        if obj is None:
            obj = AccessObject.objects.create(api_kind=api_kind, namespace=namespace, name=name, spec=spec,
                                              **metadata)
            audit(obj, "Created", f"{api_kind} {name} created", actor)
            result = WriteResult(obj, created=True, changed=True, warnings=list(problems.warnings))
        elif obj.spec != spec or obj.labels != metadata["labels"] or obj.annotations != metadata["annotations"]:
            obj.spec, obj.labels, obj.annotations = spec, metadata["labels"], metadata["annotations"]
            obj.generation += 1
            obj.save()
            audit(obj, "SpecChanged", f"{api_kind} {name} changed (generation {obj.generation})", actor)
            result = WriteResult(obj, changed=True, warnings=list(problems.warnings))
        else:
            result = WriteResult(obj, warnings=list(problems.warnings))
        if result.changed:
            _reconcile_namespace(namespace)
    return result


def delete_object(obj: AccessObject, *, actor) -> None:
    with transaction.atomic():
        audit(obj, "Deleted", f"{obj.api_kind} {obj.name} deleted", actor)
        namespace = obj.namespace
        obj.delete()
        _reconcile_namespace(namespace)


def rotate_password(user: AccessObject, *, actor) -> None:
    """A new generated password for a user; every database it may use gets it at its next reconcile."""
    if user.api_kind != USER:
        raise ValueError("only users have passwords")
    if passwords.secret_names(user.spec):
        problems = Problems()
        problems.add("spec.passwordSecrets", f"the password comes from secret {passwords.secret_names(user.spec)[0]}:"
                                             " change it there, the databases follow at their next reconcile")
        problems.raise_if_any()
    with transaction.atomic():
        user.password = generate_password()
        user.save(update_fields=["password", "updated_at"])
        audit(user, "PasswordRotated", f"the password of {user.spec.get('username')} was rotated", actor)
        _reconcile_namespace(user.namespace)


def reveal_password(user: AccessObject, *, actor) -> str:
    """The user's password; every reveal is an event."""
    audit(user, "PasswordRevealed", f"the password of {user.spec.get('username')} was revealed", actor)
    return user.password


def state_for(namespace: str, password_of=None) -> AccessState:
    """Every access object of a namespace, as the planner takes it; `password_of(user)` gives a user's password
    (default: the stored one), or None to leave the user out."""
    objects = list(AccessObject.objects.filter(namespace=namespace))
    bound = {(subject or {}).get("name") for o in objects if o.api_kind == BINDING
             for subject in o.spec.get("subjects") or []}
    password_of = password_of or (lambda user: user.password)
    # Only users some binding names can be on a database: only theirs are read (a Secret read each).
    users = {o.name: (o.spec["username"], password_of(o)) for o in objects if o.api_kind == USER and o.name in bound}
    return AccessState(
        acls={o.name: o.spec["acl"] for o in objects if o.api_kind == ACL},
        roles={o.name: o.spec for o in objects if o.api_kind == ROLE},
        bindings=[o.spec for o in objects if o.api_kind == BINDING],
        users={name: user for name, user in users.items() if user[1] is not None},
    )


def wanted_users(database) -> dict[str, WantedUser]:
    """The ACL users `database` must have: its users through roles (each with the password its passwordSecrets
    Secret holds, read from the database's target, or the generated one), and the control plane's own user
    where the default user is off."""
    spec = database.typed_spec
    state = state_for(database.namespace, lambda user: user_password(user, database))
    wanted = plan.wanted_users(state, database.name, spec.roles_permissions, cluster_mode=spec.is_cluster)
    if not spec.default_user:
        wanted[plan.ADMIN_USER] = plan.admin_user(internal.admin_password(database))
    return wanted


def user_password(user: AccessObject, database) -> str | None:
    """The user's password on `database`'s target; None (and `status.error`, an event) when its passwordSecrets
    Secret is missing there. A password read from a Secret is kept (encrypted) so reveal shows what works."""
    names = passwords.secret_names(user.spec)
    try:
        password = passwords.from_secrets(user.spec, user.namespace, lambda name: secret_values(database, name))
    except (passwords.PasswordSecretMissing, TargetError) as exc:
        _set_status(user, {"passwordSecret": names[0], "error": str(exc)}, "PasswordSecretMissing", str(exc))
        return None
    if password is None:
        _set_status(user, {}, "", "")
        return user.password
    if password != user.password:
        AccessObject.objects.filter(pk=user.pk).update(password=password)
        user.password = password
    _set_status(user, {"passwordSecret": names[0]}, "PasswordFromSecret",
                f"the password of {user.spec.get('username')} is read from secret {names[0]}")
    return password


def _set_status(user: AccessObject, status: dict, reason: str, message: str) -> None:
    """Store the user's observed status; an event only when it changes (not at every reconcile)."""
    if user.status == status:
        return
    AccessObject.objects.filter(pk=user.pk).update(status=status)
    user.status = status
    if reason:
        Event.objects.create(object_kind=user.kind, object_id=user.pk, object_name=user.name, reason=reason,
                             message=message, type=Event.WARNING if "error" in status else Event.NORMAL,
                             actor="control-plane")


def management_grants(user) -> dict[tuple[str, int], str]:
    """(database, pk) -> DBViewer | DBMember for the control-plane account `user`: the RedisEnterpriseUsers
    whose email or username is the account's, the roles bound to them, and the databases those roles name
    (scopes, or a database's rolesPermissions)."""
    email, username = (user.email or "").lower(), user.username
    grants: dict[tuple[str, int], str] = {}
    users = [o for o in AccessObject.objects.filter(api_kind=USER)
             if (email and str(o.spec.get("email", "")).lower() == email) or o.spec.get("username") == username]
    for namespace in {o.namespace for o in users}:
        names = {o.name for o in users if o.namespace == namespace}
        bound = {b.spec["roleRef"]["name"] for b in AccessObject.objects.filter(api_kind=BINDING, namespace=namespace)
                 if names & {(s or {}).get("name") for s in b.spec.get("subjects") or []}}
        roles = {r.name: r.spec for r in AccessObject.objects.filter(api_kind=ROLE, namespace=namespace, name__in=bound)
                 if r.spec.get("managementRole") in ("DBViewer", "DBMember")}
        if not roles:
            continue
        for database in Database.objects.filter(cluster__namespace=namespace):
            spec = database.typed_spec
            for name, role in roles.items():
                scoped = any((s or {}).get("name") == database.name for s in role.get("scopes") or []) or any(
                    p.get("role") == name for p in spec.roles_permissions)
                if scoped and grants.get(("database", database.pk)) != "DBMember":
                    grants[("database", database.pk)] = role["managementRole"]
    return grants
