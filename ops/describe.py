"""Short texts an operator reads in a table: a record's key, an age, data made printable. Pure."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from rich.markup import escape


def key_text(keys: Mapping[str, Any]) -> str:
    """``InvoiceNumber=ABC TransactionId=123`` from a record's ``Keys`` (typed attribute values)."""
    parts = []
    for name, value in keys.items():
        raw = next(iter(value.values())) if isinstance(value, dict) and len(value) == 1 else value
        parts.append(f"{name}={raw}")
    return " ".join(parts) or "(no keys)"


def age_text(seconds: float) -> str:
    """``2d4h``, ``3h12m``, ``5m``, ``40s``: the two largest units, enough to judge an age."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def printable(text: str) -> str:
    """``text`` with control and format characters written as escapes (``\\n``, ``\\x1b``, ``\\u202e``):
    keys, reasons and message bodies are data, and a newline would break a table row, a terminal escape
    or a bidirectional override would change what the operator sees."""
    if text.isprintable():
        return text
    return "".join(
        char if char == " " or unicodedata.category(char)[0] not in "CZ" else repr(char)[1:-1] for char in text
    )


def cell(text: str) -> str:
    """Data as one line of plain text for a rich table or line: ``printable``, and rich's markup escaped."""
    return escape(printable(text))
