"""Turning CSV and JSON Lines rows into source items: pure, so every rejection is testable.

Types come from the aggregation: the attributes summed are numbers (exact, at most 38 digits),
the keys are strings, and any other field is kept as a string (CSV) or as JSON typed it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from handler.attributes import MAX_NUMBER_DIGITS, number_text
from handler.spec import AggregationSpec


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True)
class ParsedRow:
    line: int
    item: dict[str, Any]


def read_rows(text: str, file_format: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row) pairs; a row that cannot be read at all comes back as an error string."""
    if file_format == "csv":
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            if None in row:
                yield reader.line_num, "more fields than the header has"
            else:
                yield reader.line_num, {k: v for k, v in row.items() if v not in ("", None)}
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=Decimal, parse_int=Decimal)
        except json.JSONDecodeError as error:
            yield number, f"not valid JSON: {error.msg}"
            continue
        yield number, value if isinstance(value, dict) else f"expected a JSON object, got {type(value).__name__}"


def to_item(spec: AggregationSpec, row: dict[str, Any]) -> dict[str, Any]:
    """The row as a DynamoDB item in wire format.

    Raises
    ------
    ValueError
        Naming the field that is missing or wrong.
    """
    numeric = {attribute for _, attribute in spec.sums}
    required = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else []) + sorted(numeric)
    missing = [name for name in required if name not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    item: dict[str, Any] = {}
    for name, value in row.items():
        item[name] = {"N": _number(name, value)} if name in numeric else _plain(name, value)
    for key in filter(None, (spec.partition_key, spec.sort_key)):
        if "S" not in item[key] or not item[key]["S"]:
            raise ValueError(f"{key} must be a non-empty string")
    return item


def _number(name: str, value: Any) -> str:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {str(value)[:40]!r}") from None
    if isinstance(value, bool) or not number.is_finite():
        raise ValueError(f"{name} is not a finite number: {value!r}")
    if len(number.as_tuple().digits) > MAX_NUMBER_DIGITS:
        raise ValueError(f"{name} has more than {MAX_NUMBER_DIGITS} significant digits")
    return number_text(number)


def _plain(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Decimal):
        return {"N": number_text(value)}
    if isinstance(value, str):
        return {"S": value}
    raise ValueError(f"{name} must be a string, number or boolean, got {type(value).__name__}")


def parse_file(spec: AggregationSpec, text: str, file_format: str) -> tuple[list[ParsedRow], list[RowError]]:
    rows: list[ParsedRow] = []
    errors: list[RowError] = []
    for line, row in read_rows(text, file_format):
        if isinstance(row, str):
            errors.append(RowError(line, row))
            continue
        try:
            rows.append(ParsedRow(line, to_item(spec, row)))
        except ValueError as error:
            errors.append(RowError(line, str(error)))
    return rows, errors
