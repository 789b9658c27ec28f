"""The operator's own rules for fields this control plane does not act on: type, enum, required, names.

A field accepted "but not used" is still checked against the operator's definition (operatorapi/),
so a spec that passes here is one the REC/REDB CustomResourceDefinitions admit too, and a typo
inside an unused object (`upgradeSpec: {upgradeModulesToLatst: true}`) is caught, not stored.
Fields this control plane acts on are checked by the kind's validator with its own rules.
"""
from __future__ import annotations

from core.validation import Problems, expect_bool, expect_int, expect_list, expect_mapping, unknown_field_message
from operatorapi.field import ANY, ARRAY, BOOLEAN, INTEGER, MAP, NUMBER, OBJECT, QUANTITY, STRING, USED, Field


def check_defined(problems: Problems, data: dict, definition: Field, path: str) -> None:
    """Check `data` (an object the operator defines as `definition`): its required fields, and the shape of
    every field present that is not used here, in it and in the used objects it holds. The kind's
    validator checks the used fields themselves (and unknown names, with `check_fields`)."""
    _check_required(problems, data, definition, path)
    for child in definition.fields:
        value = data.get(child.name)
        if child.support != USED:
            check_shape(problems, child, value, f"{path}.{child.name}")
        elif child.type == OBJECT and isinstance(value, dict):
            check_defined(problems, value, child, f"{path}.{child.name}")


def check_shape(problems: Problems, field: Field, value: object, path: str) -> None:
    """`value` has the type, enum and nested fields `field` defines (every problem added to `problems`)."""
    if value is None:
        return
    if field.type == OBJECT:
        _check_object(problems, field, value, path)
    elif field.type == ARRAY:
        for index, item in enumerate(expect_list(problems, value, path) or []):
            _check_value(problems, field.items or ANY, field, item, f"{path}[{index}]")
    elif field.type == MAP:
        for key, item in (expect_mapping(problems, value, path) or {}).items():
            _check_value(problems, field.items or ANY, field, item, f"{path}.{key}")
    else:
        _check_value(problems, field.type, field, value, path)


def _check_value(problems: Problems, kind: str, field: Field, value: object, path: str) -> None:
    if kind == OBJECT:
        _check_object(problems, field, value, path)
    elif kind == ANY:
        expect_mapping(problems, value, path)
    elif kind == STRING:
        if not isinstance(value, str):
            problems.add(path, "must be a string")
        elif field.enum and value not in field.enum:
            problems.add(path, f"'{value}' is not one of: {', '.join(field.enum)}")
    elif kind == INTEGER:
        expect_int(problems, value, path)
    elif kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.add(path, "must be a number")
    elif kind == BOOLEAN:
        expect_bool(problems, value, path)
    elif kind == QUANTITY:
        if isinstance(value, bool) or not isinstance(value, int | str):
            problems.add(path, "must be a quantity: a whole number or a string such as 4Gi")


def _check_object(problems: Problems, field: Field, value: object, path: str) -> None:
    data = expect_mapping(problems, value, path)
    if data is None:
        return
    known = field.names()
    for key in data:
        if key not in known:
            problems.add(f"{path}.{key}", f"unknown field '{key}'" if problems.full  # no typo search past the cap
                         else unknown_field_message(key, known))
    _check_required(problems, data, field, path)
    for child in field.fields:
        if child.name in data:
            check_shape(problems, child, data[child.name], f"{path}.{child.name}")


def _check_required(problems: Problems, data: dict, field: Field, path: str) -> None:
    for name in field.required:
        if data.get(name) is None:
            problems.add(f"{path}.{name}", "is required")
