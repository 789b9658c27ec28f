"""One field of the Redis Enterprise operator's API, with what this control plane does with it."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Support levels: USED fields are validated and acted on; WARN fields are accepted with the warning
# "accepted but not used" (an operator field this control plane has no use for, yet).
USED = "used"
WARN = "warn"

# Types. Scalars map to OpenAPI types; QUANTITY is a Kubernetes quantity (an integer or a string
# such as "4Gi"); MAP is an object of arbitrary keys whose values have type `items`; ANY is an
# object the schema does not describe (a Kubernetes core type such as a PodSpec or a Volume).
STRING, INTEGER, NUMBER, BOOLEAN = "string", "integer", "number", "boolean"
OBJECT, ARRAY, MAP, QUANTITY, ANY = "object", "array", "map", "quantity", "any"


@dataclass(frozen=True)
class Field:
    """A field: name, type, the operator's one-sentence description, and its support level here.

    `fields` are the properties of an OBJECT, or of the objects in an ARRAY whose `items` is OBJECT.
    `items` is the element type of an ARRAY or the value type of a MAP.
    """

    name: str
    type: str
    description: str = ""
    support: str = WARN
    fields: tuple[Field, ...] = ()
    items: str | None = None
    enum: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> Field:
        for child in self.fields:
            if child.name == name:
                return child
        raise KeyError(name)

    def names(self) -> frozenset[str]:
        return frozenset(child.name for child in self.fields)

    def used(self) -> frozenset[str]:
        """Names of the nested fields this control plane acts on."""
        return frozenset(child.name for child in self.fields if child.support == USED)

    def unused(self) -> frozenset[str]:
        """Names of the nested fields accepted with the "not used" warning."""
        return frozenset(child.name for child in self.fields if child.support != USED)

    def walk(self, prefix: str = "") -> Iterator[tuple[str, Field]]:
        """(dotted path, field) of every nested field, depth first."""
        for child in self.fields:
            path = f"{prefix}.{child.name}" if prefix else child.name
            yield path, child
            yield from child.walk(path)
