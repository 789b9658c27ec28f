"""Path properties of objects that own a folder (a PostgreSQL cluster, an HAProxy, an exporter)."""
from __future__ import annotations


def file_in(folder: str, name: str) -> property:
    """A read-only property: the path `name` inside the folder the object's attribute `folder` holds."""
    return property(lambda self: getattr(self, folder) / name, doc=f"{name} in the object's {folder}")
