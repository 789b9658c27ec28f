"""A form whose fields are paths in an operator spec, and that shows the validator's messages on them."""
from __future__ import annotations

import copy

import yaml
from django import forms

from core import kinds
from core.errors import SpecError


class SpecForm(forms.Form):
    """Fields named in `spec_paths` read and write dotted paths of a spec (e.g. "persistentSpec.enabled").

    Everything else in the spec a form does not show (placement, labels, fields set through YAML)
    is kept as it is on edit, because the services replace the whole spec.
    """

    spec_paths: dict[str, str] = {}

    @classmethod
    def initial_from_spec(cls, spec: dict) -> dict:
        initial = {}
        for field, path in cls.spec_paths.items():
            value = _get_path(spec, path)
            if value is not None:
                initial[field] = value
        return initial

    def initial_values(self) -> dict:
        """What each shown field starts with: the edited spec's value, else the field's default."""
        return {field: self.initial.get(field, self.fields[field].initial)
                for field in self.spec_paths if field in self.fields}

    def build_spec(self, base: dict | None = None, values: dict | None = None) -> dict:
        """`base` with every shown field set from `values` (default: the cleaned data); a blank optional
        field removes its key so the validator fills its default."""
        values = self.cleaned_data if values is None else values
        spec = copy.deepcopy(base or {})
        for field, path in self.spec_paths.items():
            if field not in self.fields:
                continue
            value = values.get(field)
            if value is None or value == "":
                _remove_path(spec, path)
            else:
                _set_path(spec, path, value)
        return spec

    def add_spec_error(self, error: SpecError) -> None:
        """Attach each `field path: messages` of the validator to the field that edits it."""
        for path, messages in error.errors.items():
            field = self.field_for_path(path)
            for message in messages:
                self.add_error(field, message if field else f"{path}: {message}")

    def field_for_path(self, path: str) -> str | None:
        if path in self.fields:
            return path
        spec_path = path.removeprefix("spec.")
        for field, field_path in self.spec_paths.items():
            if field in self.fields and (spec_path == field_path or spec_path.startswith((field_path + ".",
                                                                                          field_path + "["))):
                return field
        for field, field_path in self.spec_paths.items():  # a problem with a whole section, e.g. resources
            if field in self.fields and field_path.startswith(spec_path + "."):
                return field
        return None


def spec_yaml(kind: kinds.Kind, name: str, spec: dict, namespace: str | None = None) -> str:
    """The object as a REC/REDB document, the way `kubectl get -o yaml` users read it."""
    metadata = {"name": name or "<name>"}
    if namespace:
        metadata["namespace"] = namespace
    document = {"apiVersion": kind.api_versions[0], "kind": kind.api_kind, "metadata": metadata, "spec": spec}
    return yaml.safe_dump(document, sort_keys=False)


def _get_path(spec: dict, path: str):
    node = spec
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set_path(spec: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    node = spec
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = value


def _remove_path(spec: dict, path: str) -> None:
    *parents, leaf = path.split(".")
    node = spec
    for part in parents:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(leaf, None)
