"""The kind registry: what every layer needs to know about a kind of managed object (cluster, database).

Each app fills it in `AppConfig.ready` (clusters/kind.py, databases/kind.py), in the style of
NetBox's registry. The engine, YAML documents, API, CLI, dashboard and broadcast look a kind up
here instead of importing the app or branching on the kind's name.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Status:
    """One status word with how a person reads it: a label and a tone ("ok", "busy", "bad")."""
    word: str
    label: str
    tone: str


class StatusSet:
    """A kind's status words in one ChoiceSet-like definition: words, labels, tones, and which word
    a new object starts in and which one means it runs."""

    def __init__(self, statuses: Iterable[Status], *, initial: str, running: str, deleting: str | None = None):
        self.by_word = {status.word: status for status in statuses}
        for word in (initial, running, deleting):
            if word is not None and word not in self.by_word:
                raise ValueError(f"{word!r} is not one of the statuses")
        self.initial, self.running, self.deleting = initial, running, deleting

    def __iter__(self) -> Iterator[Status]:
        return iter(self.by_word.values())

    @property
    def words(self) -> list[str]:
        return list(self.by_word)

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(status.word, status.label) for status in self]

    def tone(self, word: str) -> str:
        status = self.by_word.get(word)
        return status.tone if status else "busy"


class _Words:
    """The names kubectl and the API give a kind, from its `name`, `api_kind`, `short_name` and `api_versions`."""

    @property
    def cli_words(self) -> tuple[str, ...]:
        """The kubectl-style words naming the kind: rec, recs, redisenterprisecluster(s), cluster(s)."""
        words = (self.short_name.lower(), self.api_kind.lower(), self.name)
        return (*words, *(f"{word}s" for word in words))

    @property
    def resource_name(self) -> str:
        return f"{self.api_kind.lower()}.{self.api_versions[0].split('/')[0]}"


@dataclass(frozen=True)
class Kind(_Words):
    """A kind of managed object and the parts of it the layers above the apps use."""
    name: str  # the word in events, task arguments, URLs and payloads: "cluster" | "database"
    api_kind: str  # the custom resource kind, e.g. RedisEnterpriseCluster
    short_name: str  # REC | REDB
    api_versions: tuple[str, ...]  # the first is the one written out
    model: type
    statuses: StatusSet
    stored_problems: Callable[[Any, Any], list[str]]  # (object, driver) -> why the stored spec is not realisable
    update: Callable[..., Any]  # the service: (obj, *, spec, actor, expected_generation, name, metadata) -> WriteResult
    upgrade: Callable[..., Any]  # the service: (obj, *, version, actor, expected_generation) -> WriteResult
    request_deletion: Callable[..., None]  # the service: (obj, *, actor, delete_data)
    summary: Callable[[Any], dict]  # spec fields dashboards show (no secrets)
    target_field: str  # the lookup from an object to its Target ("target", "cluster__target")
    namespace_field: str  # the lookup from an object to its Kubernetes namespace ("namespace", "cluster__namespace")
    team_scoped: bool = False  # True: only the owning team (and staff) see objects of this kind
    parent: str | None = None  # the foreign key naming the object this one lives on ("cluster")
    # Called before the driver applies: an Observation to report instead (e.g. waiting for the parent).
    precondition: Callable[[Any], Any] | None = None
    # Called before deletion: why the object cannot go yet (e.g. databases still present), or "".
    deletion_blocker: Callable[[Any], str] | None = None
    may_manage: Callable[[Any, Any], bool] = field(default=lambda user, obj: bool(user.is_staff))
    # Fields the custom resource's status carries besides the stored status (e.g. the REDB's secret name).
    resource_status: Callable[[Any], dict] = field(default=lambda obj: {})

    @property
    def plural(self) -> str:
        return f"{self.name}s"

    def queryset(self):
        """Every object of the kind with its target and team joined in (what every page and pass reads)."""
        return self.model.objects.select_related(self.target_field, "team")

    def on_target(self, target):
        """The kind's objects on `target`."""
        return self.queryset().filter(**{self.target_field: target})

    def find(self, target, namespace: str, name: str):
        """The object Kubernetes names `namespace/name` on `target`, or None."""
        return self.on_target(target).filter(**{self.namespace_field: namespace, "name": name}).first()

    def apply(self, driver, obj):
        return getattr(driver, f"apply_{self.name}")(obj)

    def delete(self, driver, obj) -> bool:
        return getattr(driver, f"delete_{self.name}")(obj)

    def render_manifests(self, obj, **options) -> list[dict]:
        """What the object becomes on Kubernetes; the kube app registers the renderers."""
        return _RENDERERS[self.name](obj, **options)


_KINDS: dict[str, Kind] = {}
_RENDERERS: dict[str, Callable[..., list[dict]]] = {}


def register(kind: Kind) -> Kind:
    _KINDS[kind.name] = kind
    return kind


def register_renderer(kind_name: str, render: Callable[..., list[dict]]) -> None:
    _RENDERERS[kind_name] = render


def get(name: str) -> Kind:
    return _KINDS[name]


def of(obj) -> Kind:
    return _KINDS[obj.kind]


def all_kinds() -> list[Kind]:
    """Every kind, parents before the kinds that live on them (clusters before databases)."""
    return sorted(_KINDS.values(), key=lambda kind: kind.parent is not None)


def by_api_kind(api_kind: str) -> Kind | None:
    return next((kind for kind in _KINDS.values() if kind.api_kind == api_kind), None)


def by_word(word: str) -> Kind | None:
    """The kind a kubectl-style word names (rec, redb, cluster, databases ...), or None."""
    return next((kind for kind in _KINDS.values() if word.lower() in kind.cli_words), None)


@dataclass(frozen=True)
class DocumentKind(_Words):
    """A kind that is configuration only (no target, no reconcile of its own): the access kinds
    (RedisEnterpriseACL, Role, User, RoleBinding). YAML documents, the CLI and the API find it here; what
    it changes is realised by reconciling the managed objects it affects."""
    name: str  # acl, role, user, rolebinding
    api_kind: str
    short_name: str  # reacl, rerole, reuser, rerb
    api_versions: tuple[str, ...]
    queryset: Callable[[], Any]
    apply: Callable[..., Any]  # (name=, namespace=, spec=, actor=, labels=, annotations=) -> WriteResult
    request_deletion: Callable[..., None]  # (obj, *, actor)


_DOCUMENT_KINDS: dict[str, DocumentKind] = {}


def register_document_kind(kind: DocumentKind) -> DocumentKind:
    _DOCUMENT_KINDS[kind.api_kind] = kind
    return kind


def document_kinds() -> list[DocumentKind]:
    return list(_DOCUMENT_KINDS.values())


def document_kind(api_kind: str) -> DocumentKind | None:
    return _DOCUMENT_KINDS.get(api_kind)


def document_kind_by_word(word: str) -> DocumentKind | None:
    return next((kind for kind in _DOCUMENT_KINDS.values() if word.lower() in kind.cli_words), None)
