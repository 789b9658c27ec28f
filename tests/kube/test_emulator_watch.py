"""Watch and paginated lists (API concepts: "Efficient detection of changes", "Watch bookmarks",
"Retrieving large results sets in chunks").

- A watch from a resourceVersion replays the changes after it, then streams new ones; without one it
  starts with an ADDED event per existing object. A label-selected watch sees an object that stops
  matching as DELETED.
- `allowWatchBookmarks=true` adds BOOKMARK events carrying only a resourceVersion.
- A watch or a `continue` token from before the retained history gets 410 Gone (`Expired`).
"""
from __future__ import annotations

import json
import threading

from kubernetes import client as k8s
from kubernetes import watch

from .emulator_fixtures import namespace, raw

CM = "/api/v1/namespaces/demo/configmaps"


def _create(kube_client, name: str, labels: dict | None = None) -> dict:
    status, body = raw(kube_client, "POST", CM, {"metadata": {"name": name, "labels": labels or {}}})
    assert status == 201
    return body


def _watch_config_maps(kube_client, actions: list, **params) -> list[tuple[str, str]]:
    """Watch the ConfigMaps of `demo` (with `params`: selectors, resource_version) for one event more than
    there are `actions`, running `actions[n]` after event n + 1: the change that event prompts.
    Returns (type, name) per event."""
    core = k8s.CoreV1Api(kube_client)
    events = []
    for item in watch.Watch().stream(core.list_namespaced_config_map, "demo", timeout_seconds=5, **params):
        events.append((item["type"], item["object"].metadata.name))
        if len(events) > len(actions):
            break
        actions[len(events) - 1]()
    return events


def test_watch_replays_from_a_version_and_streams_changes(kube_client):
    namespace(kube_client)
    first = _create(kube_client, "a")
    _create(kube_client, "b")
    events = _watch_config_maps(kube_client, [
        lambda: raw(kube_client, "PATCH", f"{CM}/a", {"data": {"k": "v"}}, content_type="application/merge-patch+json"),
        lambda: raw(kube_client, "DELETE", f"{CM}/b"),
    ], resource_version=first["metadata"]["resourceVersion"])
    assert events == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]


def test_watch_without_a_version_lists_first_and_follows_the_selector(kube_client):
    namespace(kube_client)
    _create(kube_client, "a", {"app": "x"})
    _create(kube_client, "b", {"app": "y"})
    events = _watch_config_maps(kube_client, [
        lambda: raw(kube_client, "PATCH", f"{CM}/a", {"metadata": {"labels": {"app": "z"}}},
                    content_type="application/merge-patch+json"),
    ], label_selector="app=x")
    assert events == [("ADDED", "a"), ("DELETED", "a")]


def test_bookmarks_carry_the_current_version(kube_emulator, kube_client):
    namespace(kube_client)
    kube_emulator.bookmark_interval = 0.2
    last = _create(kube_client, "a")
    response = kube_client.call_api(*kube_client.param_serialize(
        "GET", CM, query_params=[("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "2"),
                                 ("resourceVersion", last["metadata"]["resourceVersion"])],
        auth_settings=["BearerToken"], header_params={"Accept": "application/json"}))
    lines = [line for line in response.response.read().decode().splitlines() if line]
    kinds = {json.loads(line)["type"] for line in lines}
    assert kinds == {"BOOKMARK"}
    bookmark = json.loads(lines[-1])["object"]
    assert bookmark["kind"] == "ConfigMap" and bookmark["metadata"]["resourceVersion"] == \
        last["metadata"]["resourceVersion"]


def test_a_watch_from_compacted_history_gets_410_gone(kube_emulator, kube_client):
    namespace(kube_client)
    old = _create(kube_client, "a")
    _create(kube_client, "b")
    kube_emulator.store.log.compact()
    response = kube_client.call_api(*kube_client.param_serialize(
        "GET", CM, query_params=[("watch", "true"), ("resourceVersion", old["metadata"]["resourceVersion"]),
                                 ("timeoutSeconds", "2")], auth_settings=["BearerToken"]))
    lines = [json.loads(line) for line in response.response.read().decode().splitlines() if line]
    assert [e["type"] for e in lines] == ["ERROR"]
    assert lines[0]["object"]["code"] == 410 and lines[0]["object"]["reason"] == "Expired"


def test_lists_come_in_pages_with_continue(kube_emulator, kube_client):
    namespace(kube_client)
    for index in range(5):
        _create(kube_client, f"c{index}")
    names, token, versions = [], "", set()
    for _ in range(5):
        query = [("limit", "2")] + ([("continue", token)] if token else [])
        status, page = raw(kube_client, "GET", CM, query=query)
        assert status == 200
        names += [item["metadata"]["name"] for item in page["items"]]
        versions.add(page["metadata"]["resourceVersion"])
        token = page["metadata"].get("continue", "")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == 5 - len(names)
    assert names == [f"c{i}" for i in range(5)] and len(versions) == 1  # one consistent version for all pages
    # Pages show the list as it was at the first page's version, whatever changed since.
    status, page = raw(kube_client, "GET", CM, query=[("limit", "2")])
    raw(kube_client, "DELETE", f"{CM}/c3")
    _create(kube_client, "c2a")
    raw(kube_client, "PATCH", f"{CM}/c4", {"data": {"new": "yes"}}, content_type="application/merge-patch+json")
    status, rest = raw(kube_client, "GET", CM, query=[("continue", page["metadata"]["continue"])])
    assert [item["metadata"]["name"] for item in rest["items"]] == ["c2", "c3", "c4"]
    assert "data" not in rest["items"][-1]
    status, page = raw(kube_client, "GET", CM, query=[("limit", "2")])
    _create(kube_client, "later")
    kube_emulator.store.log.compact()  # history now starts after the token's version
    status, body = raw(kube_client, "GET", CM, query=[("limit", "2"), ("continue", page["metadata"]["continue"])])
    assert status == 410 and body["reason"] == "Expired"


def test_watches_end_when_the_server_stops(kube_emulator, kube_client):
    namespace(kube_client)
    core = k8s.CoreV1Api(kube_client)
    ended = threading.Event()

    def follow() -> None:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, "demo", timeout_seconds=60):
            pass
        ended.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    kube_emulator.stop()
    assert ended.wait(10)


def test_watch_by_field_selector(kube_client):
    """What `kubectl rollout status` and `kubectl wait` do: watch one object by `metadata.name`."""
    namespace(kube_client)
    _create(kube_client, "a")
    _create(kube_client, "b")

    def delete_both():
        raw(kube_client, "DELETE", f"{CM}/a")
        raw(kube_client, "DELETE", f"{CM}/b")

    events = _watch_config_maps(kube_client, [delete_both], field_selector="metadata.name=b")
    assert events == [("ADDED", "b"), ("DELETED", "b")]


def test_field_selectors_per_kind(kube_emulator, kube_client):
    """Lists filter by the fields each kind supports (what `kubectl describe` asks of events); others are 400."""
    namespace(kube_client)
    for name, reason in (("e1", "FailedCreate"), ("e2", "Scheduled")):
        raw(kube_client, "POST", "/api/v1/namespaces/demo/events", {
            "metadata": {"name": name}, "reason": reason, "type": "Warning",
            "involvedObject": {"kind": "StatefulSet", "name": "web", "namespace": "demo"}})
    status, body = raw(kube_client, "GET", "/api/v1/namespaces/demo/events", query=[
        ("fieldSelector", "involvedObject.kind=StatefulSet,involvedObject.name=web,reason!=Scheduled")])
    assert status == 200 and [e["metadata"]["name"] for e in body["items"]] == ["e1"]
    status, body = raw(kube_client, "GET", CM, query=[("fieldSelector", "data.x=1")])
    assert status == 400 and body["message"] == "field label not supported: data.x"
