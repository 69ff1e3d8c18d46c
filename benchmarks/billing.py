"""DynamoDB's billing rules for writes, applied to the requests a handler makes: pure.

From the developer guide (docs/design.md names the pages): an item's size is the UTF-8 length of
its attribute names plus its values (a number is about one byte per two significant digits plus
one); a write is billed in 1 KB units of the larger of the item's size before and after it; and
every item written in a transaction is billed twice (prepare and commit).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

KB = 1024


def item_size(item: dict[str, Any]) -> int:
    """Bytes an item counts for, by the developer guide's rules."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: dict[str, Any]) -> int:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(number_size(n) for n in raw)
    raise ValueError(f"unknown attribute type {kind!r}")


def number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return (significant + 1) // 2 + 1


def write_units(before: dict[str, Any] | None, after: dict[str, Any] | None, transactional: bool) -> int:
    """Write request units for one item written: 1 KB units of the larger size, doubled in a transaction."""
    size = max(item_size(before or {}), item_size(after or {}))
    units = max(1, -(-size // KB))
    return 2 * units if transactional else units
