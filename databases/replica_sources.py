"""The REDB `replicaSources` field: a database that follows another Redis (replica-of), until a cut-over makes it
the one writers use. The operator's Active-Passive replica-of; here one source: a single-shard database of the
same cluster (`replicaSourceType: REDB`), or any Redis named by a secret's `uri` (`SECRET`: a Kubernetes Secret
in the database's namespace, or on the local target credentials stored with `manage.py backup_secret NAME
--redis-uri`). The following and the cut-over: backups/services.py (docs/backups.md).
"""
from __future__ import annotations

from core.validation import FieldSet, Problems, check_fields, dns_subdomain_problem, expect_list, expect_string
from operatorapi.redb import REDB_SPEC
from targets.shape import check_defined

REDB, SECRET = "REDB", "SECRET"
SOURCE_TYPES = (REDB, SECRET)
FIELD = next(f for f in REDB_SPEC.fields if f.name == "replicaSources")
SOURCE_FIELDS = FieldSet.defined(FIELD)


def source_of(spec: dict) -> tuple[str, str] | None:
    """(replicaSourceType, replicaSourceName) a stored (validated) spec follows, or None."""
    sources = spec.get("replicaSources")
    if isinstance(sources, list) and sources and isinstance(sources[0], dict):
        return sources[0].get("replicaSourceType"), sources[0].get("replicaSourceName")
    return None


def tls_secrets(spec: dict) -> tuple[str, str]:
    """(serverCertSecret, clientKeySecret) of a stored spec's source ('' where not given)."""
    source = spec["replicaSources"][0] if source_of(spec) else {}
    return str(source.get("serverCertSecret") or ""), str(source.get("clientKeySecret") or "")


def sni_name(spec: dict) -> str:
    """tlsSniName of a stored spec's source ('' where not given)."""
    return str((spec["replicaSources"][0] if source_of(spec) else {}).get("tlsSniName") or "")


def source_name(spec: dict) -> str | None:
    """The name of what a stored spec follows (a database, or a secret), or None."""
    found = source_of(spec)
    return found[1] if found else None


def check_replica_sources(problems: Problems, value: object, *, cluster, name: str,
                          path: str = "spec.replicaSources") -> None:
    """Field-level problems of `replicaSources` (the source must exist on the same cluster and be one shard)."""
    from .models import Database

    sources = expect_list(problems, value, path)
    if not sources:
        return
    if len(sources) > 1:
        problems.add(path, f"lists {len(sources)} sources; a database follows one source at a time")
        return
    item = f"{path}[0]"
    source = sources[0]
    if not isinstance(source, dict):
        problems.add(item, "must be an object such as {replicaSourceType: REDB, replicaSourceName: other-db}")
        return
    check_fields(problems, source, SOURCE_FIELDS, item)  # compression: accepted, not used
    check_defined(problems, source, FIELD, item)
    _check_tls(problems, source, item)
    kind = expect_string(problems, source.get("replicaSourceType"), f"{item}.replicaSourceType")
    if kind is not None and kind not in SOURCE_TYPES:
        problems.add(f"{item}.replicaSourceType", f"'{kind}' is not one of: {', '.join(SOURCE_TYPES)} (REDB: a "
                     "database of this cluster; SECRET: a secret whose `uri` is redis://[:password@]host:port)")
        return
    wanted = expect_string(problems, source.get("replicaSourceName"), f"{item}.replicaSourceName")
    if not wanted:
        return
    field = f"{item}.replicaSourceName"
    if kind == SECRET:
        problem = dns_subdomain_problem(wanted)
        if problem:
            problems.add(field, problem)
        return
    if wanted == name:
        problems.add(field, "a database cannot follow itself")
        return
    found = Database.objects.filter(cluster=cluster, name=wanted, deletion_requested_at__isnull=True).first()
    if found is None:
        problems.add(field, f"no database named {wanted} on cluster {cluster.name}")
    elif found.typed_spec.is_cluster:
        problems.add(field, f"{wanted} is a sharded database (a Redis Cluster); only a single-shard database can "
                            "be followed")
    elif source_name(found.spec):
        problems.add(field, f"{wanted} follows {source_name(found.spec)} itself; follow that one instead")


def _check_tls(problems: Problems, source: dict, item: str) -> None:
    """TLS of a SECRET source (`rediss://`): the CA to trust (`serverCertSecret`) and, for mutual TLS, the
    client certificate (`clientKeySecret`), both secret names; `tlsSniName`, the host name sent as SNI (and
    checked in the source's certificate) for a source behind an SNI router. A REDB source needs none of them (the
    control plane reaches its own databases itself)."""
    for key in ("serverCertSecret", "clientKeySecret", "tlsSniName"):
        value = source.get(key)
        if value in (None, ""):
            continue
        name = expect_string(problems, value, f"{item}.{key}")
        if source.get("replicaSourceType") != SECRET:
            problems.add(f"{item}.{key}", "only for a SECRET source (a rediss:// uri); a REDB source of this "
                                          "control plane is reached without it")
        elif name:
            problem = dns_subdomain_problem(name)
            if problem:
                problems.add(f"{item}.{key}", problem)
    for key in ("clientKeySecret", "tlsSniName"):
        if source.get(key) and not source.get("serverCertSecret"):
            problems.add(f"{item}.serverCertSecret", f"is required with {key} (the CA that signed the source's "
                                                     "certificate)")
