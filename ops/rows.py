"""Reading CSV and JSON Lines into numbered rows: pure, so every rejection is testable.

A row that cannot be read comes back as its reason, so the rest of the file is still checked and
every bad row is reported by its line. A file whose structure is broken (a header naming one
column twice, a CSV quote never closed) raises ``UnreadableFile``: nothing after that point can
be trusted, so nothing of the file is loaded. CSV is parsed strictly for that reason: leniently,
an unclosed quote turns the rest of the file into one field of one row.

JSON numbers are read as exact ``Decimal``; ``NaN`` and ``Infinity``, which Python's json module
accepts but JSON does not, are refused, and so are objects naming a field twice (json would keep
the last one silently).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._lambda_code import repeated_keys
from .errors import OpsError
from .textfile import numbered_lines

Row = dict[str, Any]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


class UnreadableFile(OpsError):
    """The file's structure is broken at ``line``: no row of it can be trusted."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class _Refused(Exception):
    """Valid for Python's json module, not for JSON or for DynamoDB."""


def read_rows(text: str, file_format: str) -> Iterator[tuple[int, Row | str]]:
    """(line number, row) pairs; a row that cannot be read comes back as the reason why."""
    return _csv_rows(text) if file_format == "csv" else _jsonl_rows(text)


def _csv_rows(text: str) -> Iterator[tuple[int, Row | str]]:
    reader = csv.reader(io.StringIO(text), strict=True)  # io.StringIO ends lines at "\n" only
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1  # a quoted field may span lines: rows are named by their first
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UnreadableFile(start, f"not valid CSV: {error}") from None
        if not fields:
            continue
        if header is None:
            header = _header(fields, start)
        elif len(fields) > len(header):
            yield start, "more fields than the header has"
        else:
            yield start, _csv_row(header, fields)


def _header(fields: list[str], line: int) -> list[str]:
    seen: set[str] = set()
    for name in fields:
        if name and name in seen:
            raise UnreadableFile(line, f"the header names {name!r} twice")
        seen.add(name)
    return fields


def _csv_row(header: list[str], fields: list[str]) -> Row | str:
    row: Row = {}
    for column, (name, value) in enumerate(zip(header, fields, strict=False), start=1):
        if value == "":
            continue
        if not name:
            return f"a value in column {column}, which the header leaves unnamed"
        row[name] = value
    return row


def _jsonl_rows(text: str) -> Iterator[tuple[int, Row | str]]:
    for number, line in numbered_lines(text):
        if not line.strip(" \t"):
            continue
        try:
            value = json.loads(
                line,
                parse_float=Decimal,
                parse_int=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=_unique_fields,
            )
        except json.JSONDecodeError as error:
            yield number, f"not valid JSON: {error.msg} (column {error.colno})"
            continue
        except _Refused as error:
            yield number, str(error)
            continue
        except RecursionError:
            yield number, "not valid JSON: nested too deeply"
            continue
        yield number, value if isinstance(value, dict) else f"expected a JSON object, got {type(value).__name__}"


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"not valid JSON: {name} is not a JSON number")


def _unique_fields(pairs: list[tuple[str, Any]]) -> Row:
    repeated = repeated_keys(pairs)
    if repeated:
        raise _Refused(f"field {repeated[0]!r} appears twice")
    return dict(pairs)
