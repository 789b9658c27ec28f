"""Following a target's API server: list, then watch from the list's resourceVersion.

`ResourceWatch` is the list + watch loop of one kind, through the official client's `watch.Watch`:
bookmarks move the resourceVersion on while nothing changes, a watch that ends is resumed from the
last version seen, and `410 Gone` (the version is too old) is answered with a fresh list (a relist)
— the full list is synced again, so nothing that happened in between is lost.

`TargetWatcher` runs, for one Kubernetes target:
- the REC and REDB custom resources -> `sync.sync_resource` (both directions, one validator);
- the objects the control plane owns (StatefulSets, Services, Secrets, Pods, by the managed-by label)
  -> a reconcile of their owner, so an out-of-band change is put back within seconds instead of at
  the next periodic pass (which stays as the slow safety net). Requests are coalesced per owner;
- every RESYNC_SECONDS, a full sync of the custom resources (two list calls).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import urllib3
from django.db import close_old_connections
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from clusters.kind import CLUSTER
from core import kinds
from core.drivers import driver_for
from core.errors import TargetError
from databases.kind import DATABASE
from engine.enqueue import request_reconcile
from engine.reconcile import load
from operatorapi.schema import ACCESS_KINDS

from ..client import KINDS, KubeApi
from ..podspec import CLUSTER_LABEL, DATABASE_LABEL, MANAGED_BY
from .access import sync_access
from .sync import sync_listed, sync_resource, sync_target

log = logging.getLogger(__name__)

WATCH_SECONDS = 30  # each watch call ends after this and is resumed (bounds how long stop() takes)
LIST_PAGE = 500
MAX_BACKOFF = 30.0
OWNED_KINDS = ("StatefulSet", "Service", "Secret", "Pod")
OWNED_SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY}"
COALESCE_SECONDS = 0.2
# A full sync of the custom resources this often besides the watch: a REDB refused for now (its REC
# not taken in yet) is tried again without waiting for its next change.
RESYNC_SECONDS = 30.0


class ResourceWatch:
    """List + watch of one kind across all namespaces; `on_list(items)` after each (re)list, `on_event(type,
    object)` for each change."""

    def __init__(self, api: KubeApi, kind: str, *, selector: str = "",
                 on_list: Callable[[list[dict]], None], on_event: Callable[[str, dict], None]):
        self.api, self.kind, self.selector = api, kind, selector
        self.on_list, self.on_event = on_list, on_event
        self.resource_version: str | None = None
        self.lists = 0  # how many (re)lists happened: 1 + the number of 410 Gone answers
        self.ready = threading.Event()  # set after the first list

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                if self.resource_version is None:
                    items, self.resource_version = self._list()
                    self.lists += 1
                    _guarded(self.on_list, items)
                    self.ready.set()
                self._watch(stop)
                failures = 0
            except ApiException as exc:
                if exc.status == 410:
                    log.info("watch of %s: resourceVersion %s is gone; listing again", self.kind,
                             self.resource_version)
                    self.resource_version = None
                    continue
                failures += 1
                log.warning("watch of %s failed (%s %s); retrying", self.kind, exc.status, exc.reason)
                stop.wait(_backoff(failures))
            except (TargetError, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                failures += 1
                log.warning("watch of %s failed: %s; retrying", self.kind, exc)
                stop.wait(_backoff(failures))
            finally:
                close_old_connections()

    def _list(self) -> tuple[list[dict], str]:
        items: list[dict] = []
        token = ""
        while True:
            query = [("limit", str(LIST_PAGE))] + ([("continue", token)] if token else []) \
                + ([("labelSelector", self.selector)] if self.selector else [])
            page = self.api.request("GET", KINDS[self.kind].path(), query=query)
            items += page.get("items", [])
            token = (page.get("metadata") or {}).get("continue", "")
            if not token:
                return items, (page.get("metadata") or {}).get("resourceVersion", "")

    def _watch(self, stop: threading.Event) -> None:
        watcher = watch.Watch(return_type="object")
        stream = watcher.stream(self._call, resource_version=self.resource_version, allow_watch_bookmarks=True,
                                timeout_seconds=WATCH_SECONDS, label_selector=self.selector or None)
        for event in stream:
            if watcher.resource_version:
                self.resource_version = watcher.resource_version
            if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                obj = event["raw_object"]
                obj.setdefault("kind", self.kind)
                _guarded(self.on_event, event["type"], obj)
            if stop.is_set():
                watcher.stop()
                break

    def _call(self, *, watch: bool = True, _preload_content: bool = False, resource_version: str | None = None,
              allow_watch_bookmarks: bool = True, timeout_seconds: int = WATCH_SECONDS,
              label_selector: str | None = None):
        """The watch request, shaped like a generated list function for `watch.Watch`.

        :return: object
        """
        query = [("watch", "true"), ("allowWatchBookmarks", str(allow_watch_bookmarks).lower()),
                 ("timeoutSeconds", str(timeout_seconds))]
        if resource_version:
            query.append(("resourceVersion", resource_version))
        if label_selector:
            query.append(("labelSelector", label_selector))
        client = self.api.api_client
        serialized = client.param_serialize("GET", KINDS[self.kind].path(), query_params=query,
                                            # A watch's connection is not reused: the server may close it.
                                            header_params={"Accept": "application/json", "Connection": "close"},
                                            auth_settings=["BearerToken"])
        response = client.call_api(*serialized, _request_timeout=(self.api.timeout, timeout_seconds + 10))
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response


def _guarded(handler: Callable, *args) -> None:
    """A handler's failure (a database error, a bug) is logged and the watch goes on: the next event, the
    resync or the periodic pass brings the object in step."""
    try:
        handler(*args)
    except Exception:
        log.exception("handling a watch event failed")


def _backoff(failures: int) -> float:
    return min(0.5 * 2 ** failures, MAX_BACKOFF)


class TargetWatcher:
    """Every watch of one Kubernetes target, each on its own thread."""

    def __init__(self, target):
        self.target = target
        self.api = driver_for(target).api
        self.stop = threading.Event()
        self.watches: list[ResourceWatch] = []
        self._pending: set[tuple[str, int]] = set()
        self._pending_lock = threading.Lock()
        self.reconciles_requested = 0
        for kind in kinds.all_kinds():
            self.watches.append(ResourceWatch(
                self.api, kind.api_kind,
                on_list=lambda items, kind=kind: self._resources_listed(kind, items),
                on_event=lambda change, obj, kind=kind: self._resource_changed(kind, change, obj)))
        for custom in ACCESS_KINDS:  # users, roles, bindings, ACLs: both ways (kube/crsync/access.py)
            self.watches.append(ResourceWatch(
                self.api, custom.kind, on_list=lambda items: self._access_changed(),
                on_event=lambda change, obj: self._access_changed()))
        for kind in OWNED_KINDS:
            self.watches.append(ResourceWatch(self.api, kind, selector=OWNED_SELECTOR,
                                              on_list=lambda items: None, on_event=self._owned_changed))
        self._threads: list[threading.Thread] = []

    def start(self) -> TargetWatcher:
        for each in self.watches:
            thread = threading.Thread(target=each.run, args=(self.stop,), daemon=True,
                                      name=f"watch-{self.target.name}-{each.kind}")
            thread.start()
            self._threads.append(thread)
        flusher = threading.Thread(target=self._flush_loop, daemon=True, name=f"reconcile-{self.target.name}")
        flusher.start()
        self._threads.append(flusher)
        return self

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(w.ready.wait(max(deadline - time.monotonic(), 0)) for w in self.watches)

    def close(self, timeout: float = WATCH_SECONDS + 5) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))

    # --- custom resources -------------------------------------------------------------------------
    def _resources_listed(self, kind: kinds.Kind, items: list[dict]) -> None:
        sync_listed(self.api, self.target, kind, items)

    def _resource_changed(self, kind: kinds.Kind, change: str, obj: dict) -> None:
        meta = obj["metadata"]
        try:
            sync_resource(self.api, self.target, kind, meta["namespace"], meta["name"],
                          resource=None if change == "DELETED" else obj, read=False)
        except TargetError as exc:
            log.warning("sync of %s %s/%s failed: %s", kind.api_kind, meta["namespace"], meta["name"], exc)

    def _access_changed(self) -> None:
        _guarded(sync_access, self.api, self.target)

    # --- owned objects ----------------------------------------------------------------------------
    def _owned_changed(self, change: str, obj: dict) -> None:
        labels = obj["metadata"].get("labels") or {}
        cluster, database = labels.get(CLUSTER_LABEL), labels.get(DATABASE_LABEL)
        if database:
            kind, rows = DATABASE, DATABASE.on_target(self.target).filter(cluster__name=cluster, name=database)
        else:
            kind, rows = CLUSTER, CLUSTER.on_target(self.target).filter(name=cluster)
        pk = rows.values_list("pk", flat=True).first()
        key = (kind.name, pk)
        if pk is not None:
            with self._pending_lock:
                self._pending.add(key)

    def _flush_loop(self) -> None:
        resynced = time.monotonic()
        while not self.stop.wait(COALESCE_SECONDS):
            if time.monotonic() - resynced >= RESYNC_SECONDS:
                resynced = time.monotonic()
                _guarded(sync_target, self.api, self.target)
                _guarded(sync_access, self.api, self.target)
            with self._pending_lock:
                pending, self._pending = self._pending, set()
            for kind, pk in sorted(pending):
                _guarded(self._reconcile, kind, pk)
            close_old_connections()

    def _reconcile(self, kind: str, pk: int) -> None:
        obj = load(kind, pk)
        if obj is not None:
            self.reconciles_requested += 1
            request_reconcile(obj)
