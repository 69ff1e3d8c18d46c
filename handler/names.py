"""The names an aggregation may give attributes, checked in one place for the spec and its group_by parts."""

from __future__ import annotations

from typing import Any

from .errors import SpecError

INTERNAL_PREFIX = "_wm"
"""Attributes of an aggregate item whose names start with this belong to the handler (its position)."""
MAX_KEY_NAME_BYTES = 255
"""DynamoDB's limit on the name of a key attribute (a table's or an index's)."""


def attribute_name(value: Any, field: str) -> str:
    """``value`` as an attribute name the handler may read or write, else ``SpecError`` naming ``field``."""
    if not isinstance(value, str) or not value:
        raise SpecError(f"{field} must be a non-empty attribute name, got {value!r}")
    if name_bytes(value) > MAX_KEY_NAME_BYTES:
        raise SpecError(f"{field} is longer than DynamoDB's {MAX_KEY_NAME_BYTES} bytes for a key attribute's name")
    if value.startswith(INTERNAL_PREFIX):
        raise SpecError(f"{field} {value!r} starts with {INTERNAL_PREFIX!r}, which is reserved for the handler's state")
    return value


def name_bytes(name: str) -> int:
    return len(name.encode("utf-8", "surrogatepass"))
