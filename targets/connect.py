"""Connecting Kubernetes targets: the one validator and writer the API, the dashboard and `manage.py target` use.

A target is added only when its kubeconfig loads and its API server answers; the server version and
the permissions the control plane needs but lacks (kube/permissions.py) are stored with it and
reported as warnings. The kubeconfig is stored sealed (targets/sealing.py) and never shown back.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml
from django.db import transaction
from django.utils import timezone

from core.drivers import install_target_definitions, probe_target
from core.errors import SpecError, TargetError
from core.validation import dns_label_problem

from .models import Target
from .sealing import seal
from .writes import WriteResult

KUBECONFIG_MAX_BYTES = 256 * 1024
CONTEXT_MAX = 253
CHECK_ERROR_MAX = 1000
FILE_KEYS = ("client-certificate", "client-key", "tokenFile")


class TargetInUse(Exception):
    """The target cannot be removed now (HTTP 409): clusters still run there, or it is the default."""


@dataclass
class Connection:
    """How to reach a Kubernetes API server: a kubeconfig (and optionally one of its contexts), or in-cluster."""
    kubeconfig: str = ""
    context: str = ""
    in_cluster: bool = False


def connection_problems(connection: Connection) -> dict[str, list[str]]:
    """Field errors of a connection, before anything is contacted."""
    errors: dict[str, list[str]] = {}
    if connection.in_cluster and connection.kubeconfig:
        errors["kubeconfig"] = ["give a kubeconfig or inCluster: true, not both"]
    elif not connection.in_cluster and not connection.kubeconfig:
        errors["kubeconfig"] = ["required (or inCluster: true when the control plane runs in this cluster)"]
    if len(connection.context) > CONTEXT_MAX:
        errors["context"] = [f"must be at most {CONTEXT_MAX} characters"]
    if connection.in_cluster and connection.context:
        errors["context"] = ["only a kubeconfig has contexts"]
    if connection.kubeconfig and "kubeconfig" not in errors:
        problem = _kubeconfig_problem(connection.kubeconfig, connection.context)
        if problem:
            errors.setdefault(problem[0], []).append(problem[1])
    return errors


def _kubeconfig_problem(text: str, context: str) -> tuple[str, str] | None:
    if len(text.encode()) > KUBECONFIG_MAX_BYTES:
        return "kubeconfig", f"must be at most {KUBECONFIG_MAX_BYTES // 1024} KiB"
    try:
        config = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # also a 5000-digit number, 3000 levels deep
        return "kubeconfig", f"is not valid YAML: {str(exc).splitlines()[0]}"
    if not isinstance(config, dict) or not isinstance(config.get("contexts"), list):
        return "kubeconfig", "is not a kubeconfig: it has no list of contexts"
    names = [c.get("name") for c in config["contexts"] if isinstance(c, dict)]
    wanted = context or config.get("current-context")
    if not wanted:
        return "context", f"the kubeconfig has no current-context; name one of: {', '.join(map(str, names))}"
    if wanted not in names:
        return "context", f"no context {wanted!r} in the kubeconfig; it has: {', '.join(map(str, names)) or 'none'}"
    return _self_contained_problem(config, wanted)


def _entry(config: dict, section: str, name: object) -> dict:
    for item in config.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get(section[:-1]) or {}
    return {}


def _self_contained_problem(config: dict, context: str) -> tuple[str, str] | None:
    """The stored kubeconfig must carry its credentials inline: it may not make the control plane run a
    command (`exec`, `auth-provider`) or read a file of the machine it runs on."""
    selected = _entry(config, "contexts", context)
    user = _entry(config, "users", selected.get("user"))
    cluster = _entry(config, "clusters", selected.get("cluster"))
    if not cluster.get("server"):
        return "kubeconfig", f"context {context!r} names no cluster with a server address"
    for key in ("exec", "auth-provider"):
        if key in user:
            return "kubeconfig", (f"user {selected.get('user')!r} authenticates with {key!r}, which would run a "
                                  "program on the control plane; use a token or client certificate (e.g. a "
                                  "service account's token)")
    for section, keys in ((user, FILE_KEYS), (cluster, ("certificate-authority",))):
        found = [key for key in keys if key in section]
        if found:
            return "kubeconfig", (f"{found[0]!r} refers to a file; inline it ({found[0]}-data, or token), e.g. "
                                  "with `kubectl config view --raw --minify --flatten`")
    return None


def _settings(target: Target, connection: Connection) -> dict:
    settings = {k: v for k, v in (target.settings or {}).items()
                if k not in ("kubeconfig", "kubeconfig_path", "context", "in_cluster")}
    if connection.in_cluster:
        settings["in_cluster"] = True
    elif connection.context:
        settings["context"] = connection.context
    return settings


def _probe_into(target: Target, field: str) -> None:
    """Contact the target and record what it said; an unreachable one is a field error on `field`."""
    try:
        found = probe_target(target)
    except TargetError as exc:
        raise SpecError({field: [f"cannot reach the Kubernetes API server: {exc}"[:CHECK_ERROR_MAX]]}) from exc
    _record(target, found.server_version, found.missing_permissions, "")


def _record(target: Target, version: str, missing: list[str], error: str) -> None:
    target.server_version, target.missing_permissions = version, missing
    target.check_error, target.checked_at = error[:CHECK_ERROR_MAX], timezone.now()


def missing_warning(target: Target) -> list[str]:
    if not target.missing_permissions:
        return []
    return [f"target {target.name} lacks permissions the control plane needs: "
            f"{', '.join(target.missing_permissions)}"]


def add_target(*, name: object, connection: Connection) -> WriteResult:
    """Add a Kubernetes target; SpecError (nothing stored) when the input is wrong or the server unreachable."""
    errors: dict[str, list[str]] = {}
    problem = dns_label_problem(name)
    if problem:
        errors["name"] = [problem]
    elif Target.objects.filter(name=name).exists():
        errors["name"] = [f"a target named {name} already exists"]
    errors.update(connection_problems(connection))
    if errors:
        raise SpecError(errors)
    target = Target(name=name, kind=Target.KUBERNETES, settings=_settings(Target(), connection),
                    kubeconfig_sealed=seal(connection.kubeconfig))
    _probe_into(target, "inCluster" if connection.in_cluster else "kubeconfig")
    with transaction.atomic():
        if Target.objects.select_for_update().filter(name=name).exists():
            raise SpecError({"name": [f"a target named {name} already exists"]})
        target.save()
    return WriteResult(target, created=True, changed=True,
                       warnings=missing_warning(target) + install_target_definitions(target))


def update_target(target: Target, *, kubeconfig: str | None = None, context: str | None = None,
                  in_cluster: bool | None = None) -> WriteResult:
    """Change how a Kubernetes target is reached; fields left None keep their value. Checked like `add_target`."""
    if target.kind != Target.KUBERNETES:
        raise SpecError({"kind": [f"target {target.name} is a {target.kind} target; it has no connection to change"]})
    current = target.connection_settings()
    if in_cluster and kubeconfig is None:
        kubeconfig = ""
    if kubeconfig and in_cluster is None:
        in_cluster = False
    connection = Connection(
        kubeconfig=current.get("kubeconfig", "") if kubeconfig is None else kubeconfig,
        context=current.get("context", "") if context is None else context,
        in_cluster=bool(current.get("in_cluster")) if in_cluster is None else in_cluster)
    errors = connection_problems(connection)
    if errors:
        raise SpecError(errors)
    changed = Target(pk=target.pk, name=target.name, kind=target.kind, settings=_settings(target, connection),
                     kubeconfig_sealed=seal(connection.kubeconfig), is_default=target.is_default)
    _probe_into(changed, "inCluster" if connection.in_cluster else "kubeconfig")
    fields = ["settings", "kubeconfig_sealed", "server_version", "missing_permissions", "check_error", "checked_at"]
    for name in fields:
        setattr(target, name, getattr(changed, name))
    target.save(update_fields=fields)
    return WriteResult(target, changed=True, warnings=missing_warning(target) + install_target_definitions(target))


def check_target(target: Target) -> Target:
    """Contact the target again and store what it said (an unreachable target is recorded, not raised)."""
    try:
        found = probe_target(target)
    except TargetError as exc:
        _record(target, target.server_version, target.missing_permissions, str(exc))
    else:
        _record(target, found.server_version, found.missing_permissions, "")
    target.save(update_fields=["server_version", "missing_permissions", "check_error", "checked_at"])
    return target


def remove_target(target: Target) -> None:
    """Delete a target no cluster uses; TargetInUse says why not otherwise."""
    with transaction.atomic():
        target = Target.objects.select_for_update().get(pk=target.pk)
        if target.is_default or (target.kind == Target.LOCAL and target.name == "local"):
            raise TargetInUse(f"target {target.name} is the default target; it cannot be removed")
        names = list(target.clusters.values_list("name", flat=True)[:10])
        if names:
            raise TargetInUse(f"target {target.name} still has clusters ({', '.join(names)}); delete or move them "
                              "first")
        target.delete()
