"""The only way cluster (REC) specs are written: API, dashboard, YAML and commands all call these.

Each write validates with the one validator, saves inside a transaction (a rejected write changes
nothing), bumps `generation` on a real change, records an event and asks for a reconcile after
commit.
"""
from __future__ import annotations

import copy

from django.db import IntegrityError, transaction

from core.drivers import driver_for
from core.errors import SpecError
from operatorapi.images import is_enterprise_version
from targets.metadata import checked_metadata
from targets.models import Target
from targets.writes import WriteResult, announce_write, locked, refresh_from, request_deletion, write_spec

from .models import Cluster
from .validation import VERSION_PATH, validate_cluster

DEFAULT_NAMESPACE = "default"


def resolve_target(target: Target | str | None) -> Target:
    """A Target row from a row, a name, or nothing (the default target)."""
    if target is None or target == "":
        return Target.default()
    if isinstance(target, Target):
        return target
    found = Target.objects.filter(name=str(target)).first()
    if found is None:
        names = ", ".join(Target.objects.values_list("name", flat=True))
        raise SpecError({"target": [f"no target named {target}; known targets: {names}"]})
    return found


def create_cluster(*, name: str, spec: dict, namespace: str | None = None,
                   target: Target | str | None = None, actor, metadata: dict | None = None) -> WriteResult:
    """`metadata` may hold the REC's `labels` and `annotations` (kept as given)."""
    target = resolve_target(target)
    namespace = namespace or DEFAULT_NAMESPACE
    kept = checked_metadata(metadata or {})
    with transaction.atomic():
        checked = validate_cluster(spec, name=name, namespace=namespace, target=target)
        cluster = Cluster(name=name, namespace=namespace, target=target, spec=checked.spec, generation=1, **kept)
        if checked.spec.get("username"):
            cluster.admin_username = checked.spec["username"]
        try:
            with transaction.atomic():
                cluster.save()
        except IntegrityError:  # a concurrent create won the race past the validator's check
            raise SpecError({"name": [f"a cluster named {name} (or another cluster in namespace {namespace}) "
                                      "was just created"]}) from None
        announce_write(cluster, actor=actor, reason="Created",
                       message=f"cluster {name} created in namespace {namespace} on target {target.name}",
                       warnings=checked.warnings)
    return WriteResult(obj=cluster, created=True, changed=True, warnings=checked.warnings)


def update_cluster(cluster: Cluster, *, spec: dict, actor, expected_generation: int | None = None,
                   name: str | None = None, metadata: dict | None = None) -> WriteResult:
    """Replace the whole spec. `name`, when given, must be the cluster's name (names are immutable).
    `metadata` labels/annotations given replace the stored ones; left out, they stay."""
    return write_spec(cluster, lock=locked, new_spec=lambda current: spec,
                      validate=lambda current, new: _validate_change(current, new, name=name),
                      actor=actor, expected_generation=expected_generation,
                      metadata=checked_metadata(metadata or {}))


def upgrade_cluster(cluster: Cluster, *, version: str, actor, expected_generation: int | None = None
                    ) -> WriteResult:
    """Move the cluster's quorum members to `version` (a rolling restart the driver performs)."""
    if is_enterprise_version(version):  # in a spec only a warning; asked for explicitly, a clear refusal
        offered = ", ".join(driver_for(cluster.target).redis_versions()) or "none"
        raise SpecError({"version": [f"{version} is a Redis Enterprise Software version; give a Redis version "
                                     f"(target {cluster.target.name} offers {offered})"]})

    def with_version(current: Cluster) -> dict:
        spec = copy.deepcopy(current.spec)
        spec.setdefault("redisEnterpriseImageSpec", {})["versionTag"] = version
        return spec

    return write_spec(cluster, lock=locked, new_spec=with_version, validate=_validate_change, actor=actor,
                      expected_generation=expected_generation, reason="UpgradeRequested", version_path=VERSION_PATH)


def set_recovery(cluster: Cluster, *, enabled: bool, actor, reason: str) -> WriteResult:
    """Set or clear `clusterRecovery` (what `manage.py recover` asks for, and what recovery clears when done):
    an ordinary spec write, so it is validated, bumps the generation, is published and requests a reconcile."""
    def with_flag(current: Cluster) -> dict:
        spec = copy.deepcopy(current.spec)
        if enabled:
            spec["clusterRecovery"] = True
        else:
            spec.pop("clusterRecovery", None)
        return spec

    return write_spec(cluster, lock=locked, new_spec=with_flag, validate=_validate_change, actor=actor,
                      expected_generation=None, reason=reason)


def _validate_change(current: Cluster, spec: dict, *, name: str | None = None):
    return validate_cluster(spec, name=current.name if name is None else name, namespace=current.namespace,
                            target=current.target, current=current)


def delete_cluster(cluster: Cluster, *, actor, delete_data: bool = False) -> None:
    """Ask for the cluster's removal. Refused while it still has databases that are not being deleted."""
    with transaction.atomic():
        current = locked(cluster)
        remaining = list(current.databases.filter(deletion_requested_at__isnull=True)
                         .values_list("name", flat=True)[:10])
        if remaining:
            raise SpecError({"databases": [f"cluster {current.name} still has databases: {', '.join(remaining)}; "
                                           "delete them first"]})
        request_deletion(current, actor=actor, delete_data=delete_data)
    refresh_from(cluster, current)

