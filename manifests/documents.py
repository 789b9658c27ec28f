"""REC and REDB documents in the Redis Enterprise operator's YAML format, in and out.

`apply_documents` creates or updates every object a (multi-document) YAML text describes,
through the same services every other write path uses, all or nothing: one transaction, and any
document's error means nothing is applied. Errors carry the document's index, e.g.
`documents[1].spec.memorySize`. `dump_objects` writes objects back (spec with defaults filled, and
status) so `get -o yaml` output can be applied again unchanged.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml
from django.conf import settings
from django.db import transaction

from clusters.kind import CLUSTER
from clusters.models import Cluster
from clusters.services import create_cluster, resolve_target, update_cluster
from core import kinds
from core.errors import SpecError
from core.validation import MAX_NESTING, FieldSet, Problems, check_fields, expect_mapping, plain_data_problem
from databases.kind import DATABASE
from databases.models import Database
from databases.services import create_database, update_database
from targets.writes import WriteResult

REC_KIND = CLUSTER.api_kind
REDB_KIND = DATABASE.api_kind
API_VERSIONS = {kind.api_kind: kind.api_versions for kind in (CLUSTER, DATABASE)}


def api_versions() -> dict[str, tuple[str, ...]]:
    """Every kind a document may be: REC, REDB and the configuration kinds (users, roles, ACLs)."""
    return {**API_VERSIONS, **{kind.api_kind: kind.api_versions for kind in kinds.document_kinds()}}


def _apply_order(document: Document) -> int:
    """Clusters, then the configuration kinds, then databases (a file may list them in any order)."""
    managed = kinds.by_api_kind(document.kind)
    return 1 if managed is None else 2 if managed.parent else 0
# Which target a REC goes to; without it, the default target.
TARGET_ANNOTATION = "redis-controlplane.io/target"
DEFAULT_NAMESPACE = "default"

DOCUMENT_FIELDS = FieldSet.of(["apiVersion", "kind", "metadata", "spec", "status"])
# name, namespace, labels and annotations are kept; the fields a server fills in are accepted (so
# `get -o yaml` output applies again) and ignored.
METADATA_FIELDS = FieldSet.of(
    ["name", "namespace", "labels", "annotations", "generation", "creationTimestamp", "deletionTimestamp", "uid",
     "resourceVersion", "managedFields", "selfLink", "finalizers"],
    unused=["generateName", "ownerReferences"],
)


class _Loader(yaml.SafeLoader):
    """YAML without aliases (`*ref` can expand a small upload into gigabytes of JSON, a "billion laughs"),
    without nesting deeper than MAX_NESTING, and without duplicate keys (the later one would silently win)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not supported",
                                              self.peek_event().start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_NESTING:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_NESTING} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    # Timestamps stay strings, as JSON has them (`creationTimestamp: 2024-01-01T00:00:00Z` unquoted).
    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a scalar",
                                                        key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass
class Document:
    """One REC or REDB from a file, with the path its errors are reported under."""
    path: str
    kind: str
    name: str
    namespace: str | None
    spec: dict
    annotations: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> dict:
        """The labels and annotations to keep: what the document says (none given: none kept)."""
        return {"labels": self.labels, "annotations": self.annotations}


def apply_documents(text: str, *, actor, team=None, may_change: Callable[[object], bool] | None = None
                    ) -> list[WriteResult]:
    """Create or update every REC/REDB in `text` by name; all or nothing. Results in document order."""
    return apply_parsed(parse_documents(text), actor=actor, team=team, may_change=may_change)


def apply_parsed(documents: list[Document], *, actor, team=None, may_change: Callable[[object], bool] | None = None
                 ) -> list[WriteResult]:
    """`apply_documents` of documents `parse_documents` returned.

    A database `may_change` refuses is treated as if it did not exist: the document creates one, and
    the validator answers exactly as it does to anyone creating a database of a taken name (so
    another team's database shows neither its team nor its spec).
    """
    errors: dict[str, list[str]] = {}
    results: dict[str, WriteResult] = {}
    with transaction.atomic():
        # Clusters first, so a file may list a database before the cluster it goes on.
        for document in sorted(documents, key=_apply_order):
            try:
                results[document.path] = _apply_one(document, actor=actor, team=team, may_change=may_change)
            except SpecError as exc:
                for path, messages in exc.errors.items():
                    errors.setdefault(_document_path(document, path), []).extend(messages)
        if errors:
            raise SpecError(errors, [w for d in documents for w in d.warnings])
    return [results[document.path] for document in documents]


def apply_limits() -> dict[str, int]:
    """`max_bytes`, `max_documents`, `max_document_bytes` of one apply (settings.CONTROLPLANE_APPLY_LIMITS)."""
    return settings.CONTROLPLANE_APPLY_LIMITS


def _load_bounded(text: str) -> list:
    """The YAML documents of `text`, refusing (SpecError) a text, a document count or a document over the bounds.

    The text is measured before parsing; documents are counted as they are parsed, so a long stream stops early.
    """
    limits = apply_limits()
    size = len(text.encode("utf-8"))
    if size > limits["max_bytes"]:
        raise SpecError({"documents": [f"the file is {size} bytes; one apply takes at most {limits['max_bytes']} "
                                       "bytes: split it"]})
    loaded = []
    count = 0
    for index, doc in enumerate(yaml.load_all(text, Loader=_Loader)):
        if doc is None:
            continue
        items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else None
        for offset, item in enumerate(items if isinstance(items, list) else [doc]):
            path = f"documents[{index}].items[{offset}]" if isinstance(items, list) else f"documents[{index}]"
            item_size = len(json.dumps(item, default=str))
            if item_size > limits["max_document_bytes"]:
                raise SpecError({path: [f"is {item_size} bytes as JSON; a document may have at most "
                                        f"{limits['max_document_bytes']}"]})
        count += len(items) if isinstance(items, list) else 1
        if count > limits["max_documents"]:
            raise SpecError({"documents": [f"more than {limits['max_documents']} documents; one apply takes at "
                                           f"most {limits['max_documents']} (List items count one each): split it"]})
        loaded.append(doc)
    return loaded


def parse_documents(text: str) -> list[Document]:
    """The REC/REDB documents of a YAML (or JSON) text; a `kind: List` contributes its items."""
    try:
        loaded = _load_bounded(text)
    except RecursionError:  # a parser stage below the composer nests first (e.g. flow collections)
        raise SpecError({"documents": [f"not valid YAML: nested deeper than {MAX_NESTING} levels"]}) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError({"documents": [f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"]}) from None
    except ValueError as exc:  # a scalar the YAML types cannot hold, e.g. an integer of 5000 digits
        raise SpecError({"documents": [f"not valid YAML: {exc}"]}) from None
    for index, doc in enumerate(loaded):
        problem = plain_data_problem(doc)
        if problem:
            raise SpecError({f"documents[{index}]": [problem]})
    if not loaded:
        raise SpecError({"documents": ["no documents found"]})
    problems = Problems()
    documents: list[Document] = []
    for index, raw in enumerate(loaded):
        if isinstance(raw, dict) and raw.get("kind") == "List":
            items = raw.get("items")
            if not isinstance(items, list):
                problems.add(f"documents[{index}].items", "must be a list of documents")
                continue
            for item_index, item in enumerate(items):
                documents += _parse_one(problems, item, f"documents[{index}].items[{item_index}]")
        else:
            documents += _parse_one(problems, raw, f"documents[{index}]")
    seen: dict[tuple, str] = {}
    for document in documents:
        key = (document.kind, document.name, document.namespace, _cluster_reference(document))
        if key in seen:
            problems.add(f"{document.path}.metadata.name", f"{document.name} is already described by {seen[key]}")
        seen.setdefault(key, document.path)
    problems.raise_if_any()
    return documents


def _parse_one(problems: Problems, raw: object, path: str) -> list[Document]:
    if not isinstance(raw, dict):
        problems.add(path, "must be a mapping with apiVersion, kind, metadata and spec")
        return []
    start = len(problems.warnings)
    check_fields(problems, raw, DOCUMENT_FIELDS, path)
    kind, api_version = raw.get("kind"), raw.get("apiVersion")
    known = api_versions()
    if kind not in known:
        problems.add(f"{path}.kind", f"must be one of {', '.join(known)} (got {kind!r})")
    elif api_version not in known[kind]:
        problems.add(f"{path}.apiVersion", f"{kind} documents use apiVersion {' or '.join(known[kind])} "
                                           f"(got {api_version!r})")
    metadata = expect_mapping(problems, raw.get("metadata"), f"{path}.metadata") or {}
    check_fields(problems, metadata, METADATA_FIELDS, f"{path}.metadata")
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if name is not None and not isinstance(name, str):
        problems.add(f"{path}.metadata.name", f"must be a string, not {type(name).__name__}")
    elif not name:
        problems.add(f"{path}.metadata.name", "is required")
    if namespace is not None and not isinstance(namespace, str):
        problems.add(f"{path}.metadata.namespace", "must be a string")
    annotations = expect_mapping(problems, metadata.get("annotations"), f"{path}.metadata.annotations") or {}
    labels = expect_mapping(problems, metadata.get("labels"), f"{path}.metadata.labels") or {}
    spec = raw.get("spec", {})
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        problems.add(f"{path}.spec", "must be an object (a mapping of fields)")
    warnings = problems.warnings[start:]
    if problems.has(path):
        return []
    return [Document(path=path, kind=kind, name=name, namespace=namespace, spec=spec, annotations=annotations,
                     labels=labels, warnings=warnings)]


# Fields a service names that sit elsewhere in a document.
_SERVICE_FIELDS = {"name": "metadata.name", "namespace": "metadata.namespace",
                   "target": f"metadata.annotations.{TARGET_ANNOTATION}", "cluster": "spec.redisEnterpriseCluster"}


def _document_path(document: Document, path: str) -> str:
    """Where a service's field error sits in the document."""
    return f"{document.path}.{_SERVICE_FIELDS.get(path, path)}"


def _apply_one(document: Document, *, actor, team, may_change) -> WriteResult:
    apply = _APPLY.get(document.kind) or _apply_configuration
    result = apply(document, actor=actor, team=team, may_change=may_change)
    result.warnings = document.warnings + [f"{document.path}.{warning}" for warning in result.warnings]
    return result


def _apply_configuration(document: Document, *, actor, team, may_change) -> WriteResult:
    """A user, role, role binding or ACL: through its kind's one service and validator."""
    return kinds.document_kind(document.kind).apply(name=document.name, namespace=document.namespace,
                                                    spec=document.spec, actor=actor, labels=document.labels,
                                                    annotations=document.annotations)


def _apply_cluster(document: Document, *, actor, team, may_change) -> WriteResult:
    target_name = document.annotations.get(TARGET_ANNOTATION)
    existing = Cluster.objects.select_related("target").filter(name=document.name).first()
    if existing is None:
        return create_cluster(name=document.name, spec=document.spec, namespace=document.namespace,
                              target=target_name, actor=actor, metadata=document.metadata)
    problems = Problems()
    if document.namespace and document.namespace != existing.namespace:
        problems.add("namespace", f"cannot change: cluster {existing.name} is in namespace {existing.namespace}")
    if target_name and resolve_target(target_name) != existing.target:
        problems.add("target", f"cannot change: cluster {existing.name} is on target {existing.target.name}")
    problems.raise_if_any()
    return update_cluster(existing, spec=document.spec, actor=actor, metadata=document.metadata)


def _apply_database(document: Document, *, actor, team, may_change) -> WriteResult:
    cluster = _cluster_for(document)
    existing = Database.objects.filter(cluster=cluster, name=document.name).first()
    if existing is not None and may_change is not None and not may_change(existing):
        existing = None
    if existing is None:
        return create_database(cluster=cluster, name=document.name, spec=document.spec, team=team, actor=actor,
                               metadata=document.metadata)
    return update_database(existing, spec=document.spec, actor=actor, metadata=document.metadata)


def _cluster_reference(document: Document) -> str | None:
    """The cluster name a REDB's `spec.redisEnterpriseCluster.name` gives, if it is a name at all (the validator
    reports anything else)."""
    reference = document.spec.get("redisEnterpriseCluster")
    named = reference.get("name") if isinstance(reference, dict) else None
    return named if isinstance(named, str) else None


def _cluster_for(document: Document):
    """The REC a REDB names, or else the only cluster in its namespace."""
    named = _cluster_reference(document)
    if named:
        cluster = Cluster.objects.select_related("target").filter(name=named).first()
        if cluster is None:
            raise SpecError({"spec.redisEnterpriseCluster.name": [f"no cluster named {named}"]})
        if document.namespace and document.namespace != cluster.namespace:
            raise SpecError({"namespace": [f"cluster {named} is in namespace {cluster.namespace}, "
                                           f"not {document.namespace}"]})
        return cluster
    namespace = document.namespace or DEFAULT_NAMESPACE
    candidates = list(Cluster.objects.select_related("target").filter(namespace=namespace,
                                                                      deletion_requested_at__isnull=True))
    if not candidates:
        raise SpecError({"spec.redisEnterpriseCluster": [
            f"no cluster in namespace {namespace}; name one in spec.redisEnterpriseCluster.name"]})
    if len(candidates) > 1:
        names = ", ".join(c.name for c in candidates)
        raise SpecError({"spec.redisEnterpriseCluster": [
            f"namespace {namespace} has several clusters ({names}); name one in spec.redisEnterpriseCluster.name"]})
    return candidates[0]


_APPLY = {REC_KIND: _apply_cluster, REDB_KIND: _apply_database}


# --- Writing objects back -------------------------------------------------------------------------

def dump_configuration(obj) -> dict:
    """A user, role, role binding or ACL as the operator's custom resource (a user's password is not in it)."""
    metadata = {"name": obj.name, "namespace": obj.namespace, "generation": obj.generation,
                "creationTimestamp": _timestamp(obj.created_at)}
    metadata.update({key: dict(value) for key in ("labels", "annotations") if (value := getattr(obj, key))})
    kind = kinds.document_kind(obj.api_kind)
    return {"apiVersion": kind.api_versions[0], "kind": kind.api_kind, "metadata": metadata, "spec": obj.spec}


def dump_object(obj) -> dict:
    """A cluster or database as the operator's custom resource: metadata, the stored spec, the status."""
    if kinds.document_kind(getattr(obj, "api_kind", "")):
        return dump_configuration(obj)
    kind = kinds.of(obj)
    metadata = {"name": obj.name, "namespace": obj.namespace, "generation": obj.generation,
                "creationTimestamp": _timestamp(obj.created_at)}
    if obj.deletion_requested_at is not None:
        metadata["deletionTimestamp"] = _timestamp(obj.deletion_requested_at)
    if obj.labels:
        metadata["labels"] = dict(obj.labels)
    annotations = dict(obj.annotations or {})
    if not kind.parent:  # placed on a target directly: say which
        annotations[TARGET_ANNOTATION] = obj.target.name
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": kind.api_versions[0], "kind": kind.api_kind, "metadata": metadata, "spec": obj.spec,
            "status": obj.status or {}}


def dump_objects(objects: list, fmt: str = "yaml", *, as_list: bool = True) -> str:
    """Objects as YAML or JSON: one document, or a `kind: List` (which `apply` accepts too)."""
    items = [dump_object(obj) for obj in objects]
    data = {"apiVersion": "v1", "kind": "List", "items": items} if as_list or len(items) != 1 else items[0]
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _timestamp(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

