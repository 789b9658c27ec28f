"""The one validator for database (REDB) specs, used by every write path and by the reconciler.

`validate_database` checks a write (create or full replace) and returns the spec to store with
its defaults filled (eviction policy, secret name, port, version, cluster);
`stored_database_problems` runs the same rules over a stored spec, for status `Invalid`.
"""
from __future__ import annotations

import copy

from django.conf import settings

from clusters.capacity import capacity_problem, database_footprints
from core.drivers import driver_for
from core.engines import default_version
from core.errors import TargetError
from core.quantity import format_memory, parse_memory
from core.validation import (
    OBJECT_NAME_MAX,
    Checked,
    FieldSet,
    Problems,
    check_fields,
    dns_subdomain_problem,
    downgrade_problem,
    expect_bool,
    expect_int,
    expect_list,
    expect_mapping,
    expect_memory,
    expect_string,
    object_name_problem,
    unknown_field_message,
    version_problem,
)
from operatorapi.redb import REDB_SPEC
from specs.database import (
    DEFAULT_EVICTION_POLICY,
    EVICTION_POLICIES,
    MAX_SHARDS,
    MIN_MEMORY_BYTES,
    PERSISTENCE_MODES,
    TLS_MODES,
    DatabaseSpec,
)
from targets.modules import CATALOG as MODULE_CATALOG
from targets.modules import names_of
from targets.shape import check_defined

from .backup_spec import check_backup
from .replica_sources import check_replica_sources

# Every field the Redis Enterprise operator defines is known (operatorapi/redb.py says which are used here).
SPEC_FIELDS = FieldSet.defined(REDB_SPEC)
ALERT_FIELDS = FieldSet.defined(REDB_SPEC["alertSettings"])
CLUSTER_REF_FIELDS = FieldSet.defined(REDB_SPEC["redisEnterpriseCluster"])
MODULE_FIELDS = FieldSet.of(REDB_SPEC["modulesList"].names())  # name is acted on; version, config: see below
SHARDED_NAME_MAX = OBJECT_NAME_MAX - len(f"-shard-{MAX_SHARDS - 1}")
DEFAULTS = {"memorySize": "100MB", "shardCount": 1, "replication": False, "persistence": "disabled",
            "evictionPolicy": DEFAULT_EVICTION_POLICY, "tlsMode": "disabled"}
# Fields that, once assigned, keep their value when a full replace leaves them out.
ASSIGNED_ONCE = ("databasePort", "databaseSecretName", "redisVersion", "ossCluster")
MAX_PORT = 65535
DEFAULT_MEMORY_BYTES = parse_memory(DEFAULTS["memorySize"])

MAX_ROLES_PERMISSIONS = 100


def validate_database(spec: object, *, cluster, name: str, current=None) -> Checked:
    """Check a create (`current` None) or a full replace of `current`; raise SpecError listing every problem."""
    problems = Problems()
    if current is None:
        _check_identity(problems, cluster=cluster, name=name)
    elif name != current.name:
        problems.add("name", f"the name of a database cannot change (it is {current.name})")
    if cluster.deletion_requested_at is not None:
        problems.add("cluster", f"cluster {cluster.name} is being deleted; no database can be created or changed "
                                "on it")
    if not isinstance(spec, dict):
        problems.add("spec", "must be an object (a mapping of fields)")
        problems.raise_if_any()
    driver = driver_for(cluster.target)
    versions = driver.redis_versions()
    _check_spec(problems, spec, cluster=cluster, versions=versions, name=name)
    check_defined(problems, spec, REDB_SPEC, "spec")  # the operator's rules, on writes only
    if current is not None:
        _check_transition(problems, spec, current)
        if not problems.has("spec.shardCount"):
            _check_running_reshard(problems, spec, current)
    if not problems.has("spec"):
        _check_target_supports(problems, spec, driver=driver, name=name, current=current, cluster=cluster)
        _check_sharded_name(problems, spec, name)
    if not problems.has("spec"):
        _check_port(problems, spec, cluster=cluster, current=current, allowed=driver.database_ports())
        _check_capacity(problems, spec, cluster=cluster, name=name, current=current)
    problems.raise_if_any()
    try:
        stored = _with_defaults(spec, cluster=cluster, name=name, versions=versions, current=current, driver=driver)
    except TargetError as exc:  # no port left to assign
        problems.add("spec.databasePort", str(exc))
        problems.raise_if_any()
    return Checked(spec=stored, warnings=problems.warnings)


def stored_database_problems(database, driver) -> list[str]:
    """Reasons a stored, once-valid spec can no longer be realised on its target (status Invalid)."""
    problems = Problems()
    cluster = database.cluster
    _check_spec(problems, database.spec, cluster=cluster, versions=driver.redis_versions(), name=database.name)
    if not problems:
        _check_capacity_in_order(problems, database)
    return [message.removeprefix("spec.") for message in problems.as_messages()]


def _check_identity(problems: Problems, *, cluster, name: str) -> None:
    from .models import Database

    problem = object_name_problem(name)
    if problem:
        problems.add("name", problem)
    elif name in (cluster.name, f"{cluster.name}-ui"):
        problems.add("name", f"{name} is taken by a service of cluster {cluster.name}; choose another name")
    elif Database.objects.filter(cluster=cluster, name=name).exists():
        problems.add("name", f"a database named {name} already exists on cluster {cluster.name}")


def _check_alert_settings(problems: Problems, settings: object) -> None:
    """The thresholds the control plane evaluates (metrics/alerts.py): `{enabled: bool, threshold: number or
    numeric string}`, 0 to 1e12 (bdb_size is a percentage: at most 100). Other alert names: accepted, unused."""
    settings = expect_mapping(problems, settings, "spec.alertSettings")
    if settings is None:
        return
    check_fields(problems, settings, ALERT_FIELDS, "spec.alertSettings")
    for name in sorted(ALERT_FIELDS.used & settings.keys()):
        path = f"spec.alertSettings.{name}"
        setting = expect_mapping(problems, settings[name], path)
        if setting is None:
            continue
        for key in setting:
            if key not in ("enabled", "threshold"):
                problems.add(f"{path}.{key}", unknown_field_message(key, ("enabled", "threshold")))
        expect_bool(problems, setting.get("enabled"), f"{path}.enabled")
        threshold = setting.get("threshold")
        if threshold is None:
            if setting.get("enabled") is True:
                problems.add(f"{path}.threshold", "is required when the alert is enabled")
            continue
        try:
            number = float(threshold) if not isinstance(threshold, bool) else None
        except (TypeError, ValueError):
            number = None
        ceiling = 100.0 if name == "bdb_size" else 1e12
        if number is None or not 0 <= number <= ceiling:
            problems.add(f"{path}.threshold", f"must be a number from 0 to {ceiling:g} (a string such as \"80\" "
                                              "is accepted too)")


def _check_spec(problems: Problems, spec: dict, *, cluster, versions: list[str], name: str) -> None:
    """Rules a spec must meet on its own, whatever it replaces."""
    check_fields(problems, spec, SPEC_FIELDS, "spec")
    memory = expect_memory(problems, spec.get("memorySize"), "spec.memorySize", minimum=MIN_MEMORY_BYTES,
                           minimum_text=format_memory(MIN_MEMORY_BYTES))
    shards = expect_int(problems, spec.get("shardCount"), "spec.shardCount", minimum=1, maximum=MAX_SHARDS)
    memory = DEFAULT_MEMORY_BYTES if spec.get("memorySize") is None else memory
    if memory is not None and shards is not None and memory // shards < MIN_MEMORY_BYTES:
        problems.add("spec.shardCount", f"each shard needs at least {format_memory(MIN_MEMORY_BYTES)}: a memorySize "
                                        f"of {format_memory(memory)} allows at most {memory // MIN_MEMORY_BYTES} "
                                        "shards")
    expect_bool(problems, spec.get("replication"), "spec.replication")
    _check_alert_settings(problems, spec.get("alertSettings"))
    expect_bool(problems, spec.get("ossCluster"), "spec.ossCluster")
    expect_string(problems, spec.get("persistence"), "spec.persistence", choices=PERSISTENCE_MODES)
    expect_string(problems, spec.get("evictionPolicy"), "spec.evictionPolicy", choices=EVICTION_POLICIES)
    expect_int(problems, spec.get("databasePort"), "spec.databasePort", minimum=1, maximum=MAX_PORT)
    secret = spec.get("databaseSecretName")
    problem = secret is not None and dns_subdomain_problem(secret)
    if problem:
        problems.add("spec.databaseSecretName", problem)
    elif secret is not None and secret == cluster.name:
        problems.add("spec.databaseSecretName", f"{secret} is the Secret of cluster {cluster.name}")
    version = expect_string(problems, spec.get("redisVersion"), "spec.redisVersion")
    problem = version and version_problem(version, versions, cluster.target.name)
    if problem:
        problems.add("spec.redisVersion", problem)
    expect_string(problems, spec.get("tlsMode"), "spec.tlsMode", choices=TLS_MODES)
    expect_bool(problems, spec.get("defaultUser"), "spec.defaultUser")
    _check_roles_permissions(problems, spec.get("rolesPermissions"))
    _check_client_certificates(problems, spec)
    _check_modules(problems, spec.get("modulesList"))
    check_replica_sources(problems, spec.get("replicaSources"), cluster=cluster, name=name)
    check_backup(problems, spec.get("backup"),
                 mount_roots=[str(root) for root in settings.CONTROLPLANE_BACKUP_MOUNT_ROOTS])
    reference = expect_mapping(problems, spec.get("redisEnterpriseCluster"), "spec.redisEnterpriseCluster")
    if reference is not None:
        check_fields(problems, reference, CLUSTER_REF_FIELDS, "spec.redisEnterpriseCluster")
        named = reference.get("name")
        if named is not None and named != cluster.name:
            problems.add("spec.redisEnterpriseCluster.name",
                         f"names cluster {named} but the database is on cluster {cluster.name}")


MAX_CLIENT_CERTIFICATES = 16


def _check_client_certificates(problems: Problems, spec: dict) -> None:
    """`clientAuthenticationCertificates`: secret names (whether they exist is the target's question)."""
    path = "spec.clientAuthenticationCertificates"
    names = expect_list(problems, spec.get("clientAuthenticationCertificates"), path) or []
    if len(names) > MAX_CLIENT_CERTIFICATES:
        problems.add(path, f"lists {len(names)} secrets; {MAX_CLIENT_CERTIFICATES} at most")
        return
    for index, name in enumerate(names):
        problem = dns_subdomain_problem(name) if isinstance(name, str) else "must be a string (a secret name)"
        if problem:
            problems.add(f"{path}[{index}]", problem)
    if names and spec.get("tlsMode", "disabled") == "disabled":
        problems.add(path, "mutual TLS needs tlsMode: enabled")


def _check_roles_permissions(problems: Problems, value: object) -> None:
    """`rolesPermissions: [{type: redis-enterprise, role, acl}]`: a role's users get the ACL on this database
    (docs/acl.md). The role and ACL may be created later, as in the operator."""
    entries = expect_list(problems, value, "spec.rolesPermissions") or []
    if len(entries) > MAX_ROLES_PERMISSIONS:
        problems.add("spec.rolesPermissions", f"at most {MAX_ROLES_PERMISSIONS} entries")
        return
    for index, entry in enumerate(entries):
        path = f"spec.rolesPermissions[{index}]"
        if expect_mapping(problems, entry, path) is None:
            continue
        for key in ("type", "role", "acl"):
            if entry.get(key) is None:
                problems.add(f"{path}.{key}", "is required")
        expect_string(problems, entry.get("type"), f"{path}.type", choices=["redis-enterprise"])
        expect_string(problems, entry.get("role"), f"{path}.role", max_length=253)
        expect_string(problems, entry.get("acl"), f"{path}.acl", max_length=253)


def _check_modules(problems: Problems, value: object) -> None:
    """The shape of `modulesList` ({name, version, config} entries); which modules load is the target's
    question (driver.database_spec_problems)."""
    modules = expect_list(problems, value, "spec.modulesList") or []
    if len(modules) > len(MODULE_CATALOG):
        problems.add("spec.modulesList", f"lists {len(modules)} modules; there are {len(MODULE_CATALOG)} at most")
        return
    seen = set()
    for index, module in enumerate(modules):
        path = f"spec.modulesList[{index}]"
        if not isinstance(module, dict):
            problems.add(path, "must be an object such as {name: ReJSON}")
            continue
        check_fields(problems, module, MODULE_FIELDS, path)
        name = expect_string(problems, module.get("name"), f"{path}.name")
        if module.get("name") is None:
            problems.add(f"{path}.name", f"is required; one of: {', '.join(MODULE_CATALOG)}")
        elif name in seen:
            problems.add(f"{path}.name", f"module {name} is listed twice")
        seen.add(name)
        if expect_string(problems, module.get("version"), f"{path}.version"):
            problems.warn(f"{path}.version: accepted but not used; the module version the target ships is loaded "
                          "(MODULE LIST shows it)")
        if module.get("config") not in (None, ""):
            problems.add(f"{path}.config", "module arguments are not supported; the module's defaults are used")


def _check_target_supports(problems: Problems, spec: dict, *, driver, name: str, current, cluster) -> None:
    """Features and in-place changes the cluster's target cannot realise (the driver knows which)."""
    wanted = DatabaseSpec.from_spec(spec, name)
    before = current.typed_spec if current is not None else None
    for path, message in driver.database_spec_problems(wanted, before, cluster).items():
        problems.add(path, message)


def _check_sharded_name(problems: Problems, spec: dict, name: str) -> None:
    """A sharded database's shards are named `<name>-shard-<i>` (a StatefulSet each on Kubernetes), so its
    name leaves room for the longest suffix within Kubernetes' 63-character label values."""
    shards = spec.get("shardCount")
    if isinstance(shards, int) and shards > 1 and len(name) > SHARDED_NAME_MAX:
        problems.add("spec.shardCount", f"a sharded database's name must be at most {SHARDED_NAME_MAX} characters "
                     f"(it has {len(name)}): Kubernetes derives longer names for its shards")


def _check_transition(problems: Problems, spec: dict, current) -> None:
    """Rules about changing a stored spec."""
    port, stored_port = spec.get("databasePort"), current.spec.get("databasePort")
    oss, stored_oss = spec.get("ossCluster"), current.spec.get("ossCluster") is True
    if isinstance(oss, bool) and oss != stored_oss:
        problems.add("spec.ossCluster", f"cannot change once the database exists (it is {str(stored_oss).lower()}): "
                     "clients of a Redis Cluster speak another protocol; create a new database instead")
    if port is not None and stored_port is not None and port != stored_port:
        problems.add("spec.databasePort", f"cannot change once set (it is {stored_port})")
    version = spec.get("redisVersion")
    problem = isinstance(version, str) and downgrade_problem(version, current.spec.get("redisVersion"))
    if problem:
        problems.add("spec.redisVersion", problem)
    if not problems.has("spec.modulesList"):
        before, after = names_of(current.spec.get("modulesList") or []), names_of(spec.get("modulesList") or [])
        if sorted(before) != sorted(after):
            problems.add("spec.modulesList", f"cannot change once the database exists (it is [{', '.join(before)}]): "
                         "modules load when the server starts and data of a module's types cannot be read without "
                         "it; create a new database with the modules you need")


def _check_running_reshard(problems: Problems, spec: dict, current) -> None:
    """Writes only: one reshard at a time (`status.resharding` shows slots left to move while one runs)."""
    running = current.status.get("resharding") if current.status else None
    shards, before = spec.get("shardCount") or 1, current.spec.get("shardCount") or 1
    if shards != before and isinstance(running, dict) and running.get("slotsMoved", 0) < running.get("slotsTotal", 0):
        problems.add("spec.shardCount", f"a reshard to {running.get('shards')} shards is still running "
                     f"({running.get('slotsMoved', 0)} of {running.get('slotsTotal')} slots moved); change "
                     "shardCount again once it has finished")


def _taken_ports(cluster, *, exclude_pk: int | None) -> dict[int, str]:
    """{port: "database X of cluster Y"} for every database on the cluster's target: ports are unique per target."""
    from .models import Database

    taken = {}
    rows = (Database.objects.filter(cluster__target=cluster.target)
            .values_list("pk", "name", "cluster__name", "spec__databasePort"))  # the port only, not whole specs
    for pk, name, cluster_name, port in rows:
        if pk != exclude_pk and isinstance(port, int):
            taken[port] = f"database {name} of cluster {cluster_name}"
    return taken


def _check_port(problems: Problems, spec: dict, *, cluster, current, allowed: range) -> None:
    """A new `databasePort` comes from the target's range and is used once per target; a stored one stays valid."""
    port = spec.get("databasePort")
    if port is None or (current is not None and current.spec.get("databasePort") is not None):
        return  # once set, the port cannot change (_check_transition)
    if port not in allowed:
        problems.add("spec.databasePort", f"must be in {allowed.start}-{allowed.stop - 1}, the database port range "
                                          f"of target {cluster.target.name}")
        return
    holder = _taken_ports(cluster, exclude_pk=current.pk if current else None).get(port)
    if holder:
        problems.add("spec.databasePort", f"port {port} is already used by {holder} on target "
                                          f"{cluster.target.name}")


def _check_capacity(problems: Problems, spec: dict, *, cluster, name: str, current) -> None:
    capacity = cluster.typed_spec.capacity_bytes
    used = sum(footprint for _, footprint in
               database_footprints(cluster, exclude_pk=current.pk if current else None))
    wanted = DatabaseSpec.from_spec(spec, name)
    problem = capacity_problem(cluster.name, capacity, used, wanted.footprint_bytes, replicated=wanted.replication)
    if problem:
        problems.add("spec.memorySize", problem)


def _check_capacity_in_order(problems: Problems, database) -> None:
    """A stored database fits if it and every older database of its cluster fit the capacity together."""
    cluster = database.cluster
    capacity = cluster.typed_spec.capacity_bytes
    used = 0
    for pk, footprint in database_footprints(cluster):
        if pk == database.pk:
            problem = capacity_problem(cluster.name, capacity, used, footprint,
                                       replicated=bool(database.spec.get("replication")))
            if problem:
                problems.add("spec.memorySize", problem)
            return
        used += footprint


def _with_defaults(spec: dict, *, cluster, name: str, versions: list[str], current, driver) -> dict:
    """The spec to store: the user's fields plus every default, so what is stored is what runs."""
    stored = copy.deepcopy(spec)
    for key, value in DEFAULTS.items():
        stored.setdefault(key, value)
    if current is not None:
        for key in ASSIGNED_ONCE:
            if stored.get(key) is None and current.spec.get(key) is not None:
                stored[key] = current.spec[key]
    stored.setdefault("databaseSecretName", f"redb-{name}")
    if stored.get("redisVersion") is None and versions:
        stored["redisVersion"] = default_version(versions)
    if stored.get("databasePort") is None:
        taken = _taken_ports(cluster, exclude_pk=current.pk if current else None)
        stored["databasePort"] = driver.free_database_port(cluster, set(taken))
    stored["redisEnterpriseCluster"] = {"name": cluster.name}
    return stored
