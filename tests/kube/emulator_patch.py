"""The three PATCH flavours `kubectl` and clients send besides server-side apply.

- JSON merge patch (RFC 7386, `application/merge-patch+json`): maps merged, `null` deletes, lists replaced.
- Strategic merge patch (`application/strategic-merge-patch+json`, kubectl's default for built-in
  kinds): lists whose schema says `x-kubernetes-patch-strategy: merge` are merged by their
  `x-kubernetes-patch-merge-key` (containers by `name`, so `kubectl set image` changes one
  container); directives `$patch: delete|replace`, `$retainKeys`, `$deleteFromPrimitiveList/<field>`
  and `$setElementOrder/<field>` (order only; ignored here) are understood.
- JSON patch (RFC 6902, `application/json-patch+json`): `add`, `remove`, `replace`, `move`, `copy`, `test`.
"""
from __future__ import annotations

import copy

from .emulator_api import ApiError
from .emulator_schema import child, items, resolve


def merge_patch(target: dict, patch: dict) -> dict:
    """RFC 7386 JSON merge patch."""
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_patch(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def strategic_merge_patch(target: dict, patch: dict, schema) -> dict:
    """`patch` applied to `target` with the schema's patch strategies and merge keys."""
    if patch.get("$patch") == "replace":
        return _clean({k: v for k, v in patch.items() if k != "$patch"})
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in value]
            continue
        field_schema = child(schema, key)
        if value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = strategic_merge_patch(result[key], value, field_schema)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, field_schema)
        else:
            result[key] = _clean(value)
    if "$retainKeys" in patch:
        result = {k: v for k, v in result.items() if k in patch["$retainKeys"]}
    return result


def _merge_list(live: list, patch: list, schema) -> list:
    described = resolve(schema) or {}
    strategy = described.get("x-kubernetes-patch-strategy", "")
    merge_key = described.get("x-kubernetes-patch-merge-key")
    if "merge" not in strategy.split(","):
        return _clean(patch)
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return _clean([item for item in patch if not (isinstance(item, dict) and "$patch" in item)])
    if not merge_key:  # a list of primitives merged as a set
        return copy.deepcopy(live) + [copy.deepcopy(v) for v in patch if v not in live]
    result = copy.deepcopy(live)
    for item in patch:
        if not isinstance(item, dict):
            raise ApiError(400, "BadRequest", f"strategic merge patch: list items must be objects with {merge_key}")
        position = next((i for i, have in enumerate(result) if have.get(merge_key) == item.get(merge_key)), None)
        if item.get("$patch") == "delete":
            if position is not None:
                result.pop(position)
        elif position is None:
            result.append(_clean(item))
        else:
            result[position] = strategic_merge_patch(result[position], item, items(schema))
    return result


def _clean(value):
    """A value with the patch directives taken out."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return copy.deepcopy(value)


def json_patch(target: dict, operations: list) -> dict:
    """RFC 6902 JSON patch; a failed `test` or a bad path is 422 like the API server."""
    result = copy.deepcopy(target)
    if not isinstance(operations, list):
        raise ApiError(400, "BadRequest", "a JSON patch is a list of operations")
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        if op in ("add", "replace", "test"):
            value = copy.deepcopy(operation.get("value"))
        elif op in ("move", "copy"):
            value = copy.deepcopy(_get(result, operation.get("from", "")))
            if op == "move":
                _remove(result, operation["from"])
        elif op == "remove":
            _remove(result, path)
            continue
        else:
            raise ApiError(400, "BadRequest", f"unknown JSON patch operation {op!r}")
        if op == "test":
            if _get(result, path) != value:
                raise ApiError(422, "Invalid", f"the test operation on {path} failed")
        elif op == "replace":
            _remove(result, path)
            _add(result, path, value)
        else:
            _add(result, path, value)
    return result


def _pointer(path: str) -> list[str]:
    if path and not path.startswith("/"):
        raise ApiError(422, "Invalid", f"JSON pointer {path!r} must start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _parent(doc, path: str):
    parts = _pointer(path)
    if not parts:
        raise ApiError(422, "Invalid", "a JSON patch cannot replace the whole object")
    node = doc
    for part in parts[:-1]:
        node = _step(node, part, path)
    return node, parts[-1]


def _step(node, part: str, path: str):
    try:
        return node[int(part)] if isinstance(node, list) else node[part]
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise ApiError(422, "Invalid", f"JSON patch path {path} does not exist") from exc


def _get(doc, path: str):
    node = doc
    for part in _pointer(path):
        node = _step(node, part, path)
    return node


def _add(doc, path: str, value) -> None:
    node, last = _parent(doc, path)
    if isinstance(node, list):
        node.append(value) if last == "-" else node.insert(int(last), value)
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ApiError(422, "Invalid", f"JSON patch path {path} does not exist")


def _remove(doc, path: str) -> None:
    node, last = _parent(doc, path)
    _step(node, last, path)
    node.pop(int(last) if isinstance(node, list) else last)
