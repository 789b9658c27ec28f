"""Server-side apply as the API server does it: field sets per manager, list-map keys, conflicts.

Every field of an object is owned by the managers that set it (`metadata.managedFields`). An
apply by manager M:
- merges M's configuration into the live object: maps field by field, lists by their schema's
  `x-kubernetes-list-type` (`map`: items matched by `x-kubernetes-list-map-keys`, e.g. containers
  by `name`, container ports by `containerPort`+`protocol`; `set`: union; `atomic`: replaced);
- fails with 409 Conflict when it sets a field another manager owns to a different value, unless
  `force=true`, which takes the field over;
- removes the fields M applied before and no longer applies, unless another manager owns them.
Other writes (create, update, patch) make their manager (`fieldManager`, default from the user
agent) own the fields they changed, and take those fields from everyone else.
"""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from .emulator_api import ApiError
from .emulator_schema import child, is_atomic_map, items, list_type

Path = tuple[str, ...]
_MARK = object()  # the value recorded for a list item's own "." entry


def flatten(value, schema, prefix: Path = ()) -> dict[Path, object]:
    """Every owned field of `value` (a path of fieldsV1 elements) -> its leaf value."""
    out: dict[Path, object] = {}
    if isinstance(value, dict) and value and not is_atomic_map(schema):
        for key, sub in value.items():
            out.update(flatten(sub, child(schema, key), prefix + (f"f:{key}",)))
        return out
    if isinstance(value, list) and value:
        kind, keys = list_type(schema)
        if kind in ("map", "set"):
            for item in value:
                element = item_element(item, kind, keys)
                out[prefix + (element, ".")] = _MARK
                if kind == "map":
                    out.update(flatten(item, items(schema), prefix + (element,)))
            return out
    out[prefix] = copy.deepcopy(value)
    return out


def item_element(item, kind: str, keys: list[str]) -> str:
    if kind == "set":
        return "v:" + json.dumps(item, sort_keys=True)
    return "k:" + json.dumps({k: item.get(k, _key_default(k)) for k in keys}, sort_keys=True,
                             separators=(",", ":"))


def _key_default(key: str):
    """Key fields the server defaults (a port's `protocol`) count with their default."""
    return "TCP" if key == "protocol" else None


def merge(live, applied, schema):
    """`applied` merged into `live` by the schema's list semantics."""
    if isinstance(applied, dict) and isinstance(live, dict) and not is_atomic_map(schema):
        result = copy.deepcopy(live)
        for key, value in applied.items():
            result[key] = merge(live.get(key), value, child(schema, key)) if key in live else copy.deepcopy(value)
        return result
    if isinstance(applied, list) and isinstance(live, list):
        kind, keys = list_type(schema)
        if kind == "map":
            result = copy.deepcopy(live)
            index = {item_element(item, kind, keys): i for i, item in enumerate(result)}
            for item in applied:
                element = item_element(item, kind, keys)
                if element in index:
                    result[index[element]] = merge(result[index[element]], item, items(schema))
                else:
                    result.append(copy.deepcopy(item))
            return result
        if kind == "set":
            return copy.deepcopy(live) + [copy.deepcopy(v) for v in applied if v not in live]
    return copy.deepcopy(applied)


def remove_path(obj, path: Path, schema) -> None:
    """Delete the field at `path` (a list item when the path ends in its "." entry)."""
    if not path or not isinstance(obj, (dict, list)):
        return
    head, rest = path[0], path[1:]
    if isinstance(obj, dict) and head.startswith("f:"):
        key = head[2:]
        if key not in obj:
            return
        if not rest:
            obj.pop(key)
            return
        remove_path(obj[key], rest, child(schema, key))
        if obj[key] in ({}, []):
            obj.pop(key)
    elif isinstance(obj, list):
        kind, keys = list_type(schema)
        for i, item in enumerate(obj):
            if item_element(item, kind, keys) == head:
                if rest == (".",):
                    obj.pop(i)
                else:
                    remove_path(item, rest, items(schema))
                return


class FieldManagers:
    """Field sets per (manager, operation) of one object, and the `managedFields` that describe them."""

    def __init__(self) -> None:
        self.owned: dict[tuple[str, str], set[Path]] = {}
        self.times: dict[tuple[str, str], str] = {}
        self.api_versions: dict[tuple[str, str], str] = {}

    def apply(self, live: dict | None, config: dict, manager: str, *, force: bool, schema, api_version: str) -> dict:
        """The object after `manager` applies `config` (409 on a conflict without `force`)."""
        live = live or {}
        flat_config = flatten(_owned_part(config), schema)
        flat_live = flatten(_owned_part(live), schema)
        me = (manager, "Apply")
        conflicts: dict[Path, list[str]] = {}
        for other, fields in self.owned.items():
            if other == me:
                continue
            for path in fields & flat_config.keys():
                if flat_config[path] is not _MARK and flat_live.get(path, _MARK) != flat_config[path]:
                    conflicts.setdefault(path, []).append(other[0])
        if conflicts and not force:
            raise _conflict_error(conflicts, api_version)
        for other, fields in self.owned.items():
            if other != me:
                fields -= conflicts.keys()
        previous = self.owned.get(me, set())
        others = set().union(*(f for k, f in self.owned.items() if k != me)) if self.owned else set()
        result = copy.deepcopy(live)
        # Whole list items first; an item's key fields go only with the item.
        for path in sorted(previous - flat_config.keys() - others, key=lambda p: (p[-1] != ".", len(p))):
            if not _is_item_key(path):
                remove_path(result, path, schema)
        result = merge(result, config, schema)
        self._own(me, set(flat_config), api_version)
        return result

    def update(self, before: dict | None, after: dict, manager: str, schema, api_version: str) -> None:
        """A non-apply write: `manager` now owns what it changed; removed fields are owned by nobody."""
        flat_before = flatten(_owned_part(before or {}), schema)
        flat_after = flatten(_owned_part(after), schema)
        changed = {p for p, v in flat_after.items() if flat_before.get(p, _MARK) != v or p not in flat_before}
        gone = flat_before.keys() - flat_after.keys()
        for fields in self.owned.values():
            fields -= changed
            fields -= gone
        me = (manager, "Update")
        self._own(me, self.owned.get(me, set()) | changed, api_version)

    def _own(self, key: tuple[str, str], fields: set[Path], api_version: str) -> None:
        if self.owned.get(key) != fields:
            self.times[key] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.owned[key] = fields
        self.api_versions[key] = api_version
        for empty in [k for k, f in self.owned.items() if not f]:
            del self.owned[empty]

    def managed_fields(self) -> list[dict]:
        return [{"manager": manager, "operation": operation, "apiVersion": self.api_versions[(manager, operation)],
                 "time": self.times.get((manager, operation), ""), "fieldsType": "FieldsV1",
                 "fieldsV1": encode(fields)}
                for (manager, operation), fields in self.owned.items()]


def _is_item_key(path: Path) -> bool:
    return len(path) >= 2 and path[-2].startswith("k:") and path[-1][2:] in json.loads(path[-2][2:])


def _owned_part(obj: dict) -> dict:
    """What field ownership covers: everything but identity, server-set metadata and status."""
    result = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}
    meta = obj.get("metadata") or {}
    kept = {k: v for k, v in meta.items() if k in ("labels", "annotations", "finalizers", "ownerReferences")}
    if kept:
        result["metadata"] = kept
    else:
        result.pop("metadata", None)
    return result


def encode(fields: set[Path]) -> dict:
    """Field paths as a `fieldsV1` tree."""
    tree: dict = {}
    for path in fields:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    return tree


def path_text(path: Path) -> str:
    """A field path as the API server prints it: `.spec.containers[name="redis"].image`."""
    text = ""
    for element in path:
        if element.startswith("f:"):
            text += "." + element[2:]
        elif element.startswith("k:"):
            keys = json.loads(element[2:])
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        elif element.startswith("v:"):
            text += f"[={element[2:]}]"
    return text


def _conflict_error(conflicts: dict[Path, list[str]], api_version: str) -> ApiError:
    causes = []
    for path, managers in sorted(conflicts.items()):
        field = path_text(path)
        for manager in managers:
            causes.append({"type": "FieldManagerConflict", "message": f'conflict with "{manager}" using {api_version}',
                           "field": field})
    count = len(causes)
    text = "; ".join(f"{c['message']}: {c['field']}" for c in causes)
    return ApiError(409, "Conflict", f"Apply failed with {count} conflict{'s' if count > 1 else ''}: {text}",
                    {"causes": causes})
