"""What `load` will write, decided before anything is written: rows read from CSV or JSON Lines,
each turned into a source item or the reason it cannot be one, duplicates settled. All pure.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._lambda_code import AggregationSpec, AttributeValue, DateForm, InvalidImage, image_contribution, repeated_keys
from .errors import InvalidRow, OpsError
from .text import NumberError, checked, numbered_lines, parse_number_text, storable_text

# --------------------------------------------------------------------------------------------------
# What `load` will write, decided before anything is written: pure.
#
# Two rows of one file with the same key would be one item: DynamoDB keeps the last write (and
# refuses a BatchWriteItem that holds both). So duplicates are settled here, by line: by default
# the last row is loaded and each earlier one is named in a warning; under ``--strict`` every later
# row is an error and nothing is loaded, like any other bad row.


@dataclass(frozen=True)
class ParsedRow:
    line: int
    item: Item


@dataclass
class LoadPlan:
    rows: list[ParsedRow] = field(default_factory=list)
    """What to write: one row per key, in file order."""
    errors: list[RowError] = field(default_factory=list)
    """Rows refused; under --strict, any of them means ``rows`` is empty."""
    warnings: list[RowError] = field(default_factory=list)
    """Rows skipped for a later row with the same key."""


def plan_load(spec: AggregationSpec, text: str, file_format: str, strict: bool) -> LoadPlan:
    """Every row validated, duplicates settled (see the module docstring).

    Raises
    ------
    rows.UnreadableFile
        When the file's structure is broken.
    """
    plan = LoadPlan()
    parsed: list[ParsedRow] = []
    for line, row in read_rows(text, file_format):
        if isinstance(row, str):
            plan.errors.append(RowError(line, row))
            continue
        try:
            parsed.append(ParsedRow(line, to_item(spec, row)))
        except (InvalidRow, NumberError) as error:
            plan.errors.append(RowError(line, str(error)))
    by_key: dict[tuple[str, ...], list[ParsedRow]] = defaultdict(list)
    for parsed_row in parsed:
        by_key[key_of(spec, parsed_row.item)].append(parsed_row)
    for key, same in by_key.items():
        lines = [parsed_row.line for parsed_row in same]
        described = describe_key(spec, key)
        if strict:
            plan.errors.extend(RowError(line, f"same key as line {lines[0]} ({described})") for line in lines[1:])
        else:
            kept = lines[-1]
            plan.warnings.extend(
                RowError(line, f"same key as line {kept} ({described}): line {kept} is loaded instead")
                for line in lines[:-1]
            )
    plan.errors.sort(key=lambda error: error.line)
    plan.warnings.sort(key=lambda warning: warning.line)
    if not (strict and plan.errors):
        last = {key: same[-1].line for key, same in by_key.items()}
        plan.rows = [kept for kept in parsed if last[key_of(spec, kept.item)] == kept.line]
    return plan


# --------------------------------------------------------------------------------------------------
# Turning one read row into a source item in wire format, or the reason it cannot be one: pure.
#
# Types come from the aggregation: the attributes summed and the group_by parts read as numbers
# are numbers, the keys are strings, and any other field is kept as a string (CSV) or as JSON typed
# it. Every number follows DynamoDB's rules (ops.text), keys and the item follow DynamoDB's size
# limits, and the item must be one the handler counts: a row the handler would set aside as invalid
# is refused here, with its reason, rather than loaded and then missing from the totals.

MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
MAX_ITEM_BYTES = 400 * 1024

Item = dict[str, AttributeValue]
JSON_TYPES: dict[type, str] = {dict: "an object", list: "an array", type(None): "null"}


def key_names(spec: AggregationSpec) -> list[str]:
    return [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])


def to_item(spec: AggregationSpec, row: Row) -> Item:
    """The row as a DynamoDB item in wire format.

    Raises
    ------
    InvalidRow
        Naming the field that is missing or wrong.
    """
    numeric = {attribute for _, attribute in spec.sums} | number_parts(spec)
    grouped = [part.attribute for part in spec.group_parts] or [spec.group_by]
    required = dict.fromkeys(key_names(spec) + sorted(numeric) + grouped + [a for _, a in spec.latests])
    missing = [name for name in required if name not in row]
    if missing:
        raise InvalidRow(f"missing {', '.join(missing)}")
    item: Item = {}
    for name, value in row.items():
        if not name:
            raise InvalidRow("an attribute name is empty")
        item[name] = {"N": _measure(name, value)} if name in numeric else _plain(name, value)
    _check_key(item, spec.partition_key, "partition key", MAX_PARTITION_KEY_BYTES)
    if spec.sort_key:
        _check_key(item, spec.sort_key, "sort key", MAX_SORT_KEY_BYTES)
    size = sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())
    if size > MAX_ITEM_BYTES:
        raise InvalidRow(f"the item would be about {size} bytes; DynamoDB allows at most {MAX_ITEM_BYTES}")
    try:
        image_contribution(spec, item)
    except InvalidImage as error:
        raise InvalidRow(f"the aggregator would count it invalid: {error}") from None
    return item


def number_parts(spec: AggregationSpec) -> set[str]:
    """group_by parts the handler reads as numbers (N parts, epoch dates): a CSV's text becomes N."""
    epochs = (DateForm.EPOCH_SECONDS, DateForm.EPOCH_MILLIS)
    return {
        part.attribute for part in spec.group_parts if (part.bucket is None and part.type == "N") or part.date in epochs
    }


def _measure(name: str, value: Any) -> str:
    if isinstance(value, Decimal):  # a JSON number: its syntax is already a subset of DynamoDB's
        return storable_text(checked(value, name), name)
    if isinstance(value, str):
        return storable_text(parse_number_text(value, name), name)
    raise NumberError(f"{name} is not a number: {value!r}")


def _plain(name: str, value: Any) -> AttributeValue:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Decimal):
        return {"N": storable_text(checked(value, name), name)}
    if isinstance(value, str):
        return {"S": value}
    raise InvalidRow(f"{name} must be a string, number or boolean, got {JSON_TYPES.get(type(value), 'another type')}")


def _check_key(item: Item, name: str, role: str, limit: int) -> None:
    text = item[name].get("S")
    if not isinstance(text, str) or not text:
        raise InvalidRow(f"{name} must be a non-empty string")
    size = len(text.encode())
    if size > limit:
        raise InvalidRow(f"{name} is {size} bytes; DynamoDB allows at most {limit} in a {role}")


def _value_bytes(value: AttributeValue) -> int:
    """An upper bound of DynamoDB's size for the value: a number's text is longer than its storage."""
    ((kind, raw),) = value.items()
    return 1 if kind == "BOOL" else len(str(raw).encode())


def key_of(spec: AggregationSpec, item: Item) -> tuple[str, ...]:
    return tuple(item[name]["S"] for name in key_names(spec))


def describe_key(spec: AggregationSpec, key: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {value[:40]!r}" for name, value in zip(key_names(spec), key, strict=True))


# --------------------------------------------------------------------------------------------------
# Reading CSV and JSON Lines into numbered rows: pure, so every rejection is testable.
#
# A row that cannot be read comes back as its reason, so the rest of the file is still checked and
# every bad row is reported by its line. A file whose structure is broken (a header naming one
# column twice, a CSV quote never closed) raises ``UnreadableFile``: nothing after that point can
# be trusted, so nothing of the file is loaded. CSV is parsed strictly for that reason: leniently,
# an unclosed quote turns the rest of the file into one field of one row.
#
# JSON numbers are read as exact ``Decimal``; ``NaN`` and ``Infinity``, which Python's json module
# accepts but JSON does not, are refused, and so are objects naming a field twice (json would keep
# the last one silently).

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
