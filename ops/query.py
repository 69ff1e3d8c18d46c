"""`query VALUE... [--from A --to B]`: its options, the keys asked for, the bucket labels of a range,
the consistent reads and the table.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, DecimalException
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._lambda_code import (
    EXACT,
    AggregationSpec,
    AttributeValue,
    Bucket,
    DateForm,
    GroupPart,
    InvalidImage,
    MeasureOp,
    attribute_part_text,
    average,
    decode_key,
    encode_key,
    key_token,
    key_value,
    label,
    read_extremes,
    read_measures,
    wall_time,
    zone,
)
from .errors import EXIT_ERROR, EXIT_OK, CommandError, exit_codes
from .extremes_recount import extreme_of
from .tables import aggregate_problem, check_extremes_table, key_schema
from .targets import EXTREMES_FLAG, Target, add_target_arguments, resolve_target
from .text import NumberError, add_output_argument, cell, parse_number_text, print_json, wants_json

# --------------------------------------------------------------------------------------------------
# `query VALUE... [--from A --to B]`: print one aggregate, or one key's buckets over a range, as a table.
#
# Reads the aggregate table only, with strongly consistent reads (GetItem's and BatchGetItem's
# ConsistentRead), so what it prints is what the handler has written, not an index's lagging copy.
# Exits 1 when no aggregate was found, so scripts can tell.

BATCH_GET_KEYS = 100
"""BatchGetItem's limit of keys per request."""
MAX_UNPROCESSED_ROUNDS = 8


@dataclass
class QueryResult:
    spec: AggregationSpec
    keys: list[AttributeValue]
    """The keys asked for, in order."""
    items: dict[str, dict[str, AttributeValue]]
    """The aggregates found, by key text."""
    measures: dict[str, dict[str, AttributeValue | None]]
    """Each found aggregate's measures as read (handler.reading.read_measures: an avg computed, a min/max from the
    extremes table), by key text."""


def run_query(target: Target, values: list[str], first: str | None, last: str | None, console: Console) -> QueryResult:
    dynamodb = target.client("dynamodb")
    schema = key_schema(dynamodb, target.aggregate_table)
    problem = aggregate_problem(target.spec, target.aggregate_table, schema)
    if problem:
        raise CommandError(problem)
    keys = query_keys(target.spec, values, first, last, schema["HASH"][1])
    items = read_keys(dynamodb, target.aggregate_table, target.spec, keys)
    extremes_table = target.extremes()
    if extremes_table is not None:
        check_extremes_table(dynamodb, extremes_table, EXTREMES_FLAG)
    measures = {}
    for key in keys:
        item = items.get(_text(key))
        if item is not None:
            held = (
                read_extremes(dynamodb, extremes_table, target.spec, _key_token(target.spec, key))
                if extremes_table
                else None
            )
            measures[_text(key)] = read_measures(target.spec, item, held)
    console.print(query_table(target.spec, keys, items, measures))
    if not items:
        for note in not_found_notes(values):
            console.print(f"note: {cell(note)}", soft_wrap=True, highlight=False)
    return QueryResult(target.spec, keys, items, measures)


def _key_token(spec: AggregationSpec, key: AttributeValue) -> str:
    """The handler's group token of a key asked for (a binary key as base64 text, as the stream carries it)."""
    return key_token({"B": _text(key)} if "B" in key else key, spec.group_by)


def query_document(result: QueryResult) -> dict[str, Any]:
    """`query --output json`: each aggregate found, in the order asked, as DynamoDB stores it (typed), with its
    key as `reconcile --key` takes it, its group_by parts and its measures as read (typed; an avg computed to 38
    digits, a min/max from the extremes table; null where none); the keys asked for but not found."""
    found, missing = [], []
    for key in result.keys:
        item = result.items.get(_text(key))
        token = _key_token(result.spec, key)
        if item is None:
            missing.append(token)
            continue
        parts = decode_key(key["S"]) if result.spec.group_parts else [_text(key)]
        names = [part.name for part in result.spec.group_parts] or [result.spec.group_by]
        measures = result.measures.get(_text(key), {})
        found.append({"key": token, "parts": dict(zip(names, parts, strict=True)), "item": item, "measures": measures})
    return {"aggregates": found, "not_found": missing}


def read_keys(
    client: Any, table: str, spec: AggregationSpec, keys: list[AttributeValue]
) -> dict[str, dict[str, AttributeValue]]:
    """The items found, by key text; BatchGetItem 100 keys at a time, unprocessed keys asked again."""
    found: dict[str, dict[str, AttributeValue]] = {}
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request = {table: {"Keys": [{spec.group_by: key} for key in keys[start : start + BATCH_GET_KEYS]]}}
        for attempt in range(MAX_UNPROCESSED_ROUNDS):
            page = client.batch_get_item(RequestItems={t: {**r, "ConsistentRead": True} for t, r in request.items()})
            for item in page.get("Responses", {}).get(table, []):
                found[key_text(item[spec.group_by])] = item
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        if request:
            raise CommandError(f"DynamoDB left {len(request[table]['Keys'])} key(s) unread after retries: try again")
    return found


# --------------------------------------------------------------------------------------------------
# `query`: which aggregate keys the operator asked for, and the table that shows them: pure.
#
# The operator gives one value per group_by part, in the spec's order (``C-17 2026-11-28``), or,
# with ``--from`` and ``--to``, every part but the first time-bucket one, whose buckets the range
# covers (``C-17 --from 2026-11-01 --to 2026-11-30``). A bucket is given as its label
# (``2026-W48``, ``2026-11``) or as any ISO date or time the handler reads, taken as wall-clock
# time in the spec's zone (or converted to it, with an offset) and cut to its bucket, so ``--from
# 2026-11-01`` works for every bucket size. Keys are built with the handler's own functions
# (``handler.grouping``, ``handler.buckets``), so a key asked for is spelled exactly as the handler
# wrote it.

MAX_BUCKETS = 10_000
"""A range reads one key per bucket (BatchGetItem, 100 a request): a month of minutes is 44,640."""


def query_keys(
    spec: AggregationSpec, values: Sequence[str], first: str | None, last: str | None, key_type: str
) -> list[AttributeValue]:
    """The aggregate keys to read, in order; ``CommandError`` naming what is wrong with the input."""
    if (first is None) != (last is None):
        raise CommandError("give both --from and --to, or neither")
    if not spec.group_parts:
        if first is not None:
            raise CommandError(f"--from/--to need a group_by part with a time bucket; group_by is {spec.group_by!r}")
        if len(values) != 1:
            raise CommandError(f"give one value of group_by {spec.group_by!r}, got {len(values)}")
        return [single_key(spec.group_by, values[0], key_type)]
    ranged = spec.first_bucket_part if first is not None else None
    if first is not None and ranged is None:
        raise CommandError("--from/--to need a group_by part with a time bucket, and group_by has none")
    named = [part for part in spec.group_parts if part is not ranged]
    if len(values) != len(named):
        wanted = " ".join(part.name for part in named)
        raise CommandError(f"give one value for each of: {wanted} (got {len(values)})")
    tz = zone(spec.timezone)
    texts = {part.name: part_text(part, value, tz) for part, value in zip(named, values, strict=True)}
    if ranged is None or ranged.bucket is None:
        return [{"S": encode_key([texts[part.name] for part in spec.group_parts])}]
    bucket = ranged.bucket
    assert first is not None and last is not None  # both or neither, checked above
    start, end = input_label(bucket, first, tz, "--from"), input_label(bucket, last, tz, "--to")
    labels = labels_between(bucket, start, end, MAX_BUCKETS)
    if not labels:
        raise CommandError(f"--from {first} is after --to {last}")
    return [
        {"S": encode_key([label_text if part is ranged else texts[part.name] for part in spec.group_parts])}
        for label_text in labels
    ]


def input_label(bucket: Bucket, text: str, tz: ZoneInfo | None, what: str = "a bucket") -> str:
    """The label of the bucket ``text`` names: a label already, or an ISO date/time read as the handler
    reads an item's (an offset converted to the zone ``tz``, None for UTC), cut to the bucket."""
    ascii_digits(text, what)
    if bucket_start(bucket, text) is not None:
        return text
    try:
        return label(bucket, wall_time({"S": text}, DateForm.ISO8601, None, tz, "date"))
    except InvalidImage:
        raise CommandError(f"{text!r} is neither a {bucket.value} label nor an ISO date or time") from None


def other_digits(text: str) -> str | None:
    """The digits other than 0-9 in ``text`` (at most three, with their code points), or None."""
    other = sorted({char for char in text if char.isnumeric() and not char.isascii()})
    return " ".join(f"{char!r} (U+{ord(char):04X})" for char in other[:3]) or None


def not_found_notes(values: Sequence[str]) -> list[str]:
    """For a query that found nothing: string values are taken as written (a key may hold any text), but
    C-17 typed in fullwidth digits, or pasted with a space at an end, is a likely typo: say so."""
    notes = []
    for value in values:
        shown = other_digits(value)
        if shown:
            notes.append(f"{value[:40]!r} has digits other than 0-9: {shown}; a key with 0-9 is another key")
        if value != value.strip():
            notes.append(f"{value[:40]!r} has white space at an end: it is part of the key asked for")
    return notes


def ascii_digits(text: str, what: str) -> None:
    """Refuse a date or label written with other digits than 0-9 (fullwidth or Arabic-Indic digits,
    superscripts): the handler's labels hold ASCII digits, so such a value names no key,
    and "0 of 1 found" would read as no data rather than a typo."""
    shown = other_digits(text)
    if shown:
        raise CommandError(f"{what} {text[:40]!r} has digits other than 0-9: {shown}; write it with 0-9")


def part_text(part: GroupPart, value: str, tz: ZoneInfo | None) -> str:
    """A part's text in the key for a value the operator typed (``reconcile --key`` checks keys with it too)."""
    if part.bucket is not None:
        return input_label(part.bucket, value, tz, f"the value of group_by part {part.name!r}")
    try:
        if part.type == "N":  # DynamoDB's syntax: Decimal alone also reads "7_0" as 70, and other scripts' digits
            parse_number_text(value, f"the value of group_by part {part.name!r}")
        return attribute_part_text(part, {part.type: value})
    except (InvalidImage, NumberError) as error:
        raise CommandError(str(error)) from None


def single_key(name: str, value: str, key_type: str) -> AttributeValue:
    """The aggregate key, for a client call, of a one-attribute group_by's value as the operator typed it."""
    try:
        if key_type == "N":
            parse_number_text(value, "the value")
        if key_type == "B":
            return {"B": base64.b64decode(value, validate=True)}
        return key_value({key_type: value}, name)
    except (InvalidImage, NumberError, binascii.Error, ValueError) as error:
        raise CommandError(f"{value[:40]!r} is not a {key_type} value of {name!r}: {error}") from None


def query_table(
    spec: AggregationSpec,
    keys: Sequence[AttributeValue],
    items: Mapping[str, dict[str, AttributeValue]],
    measures: Mapping[str, Mapping[str, AttributeValue | None]] | None = None,
) -> Table:
    """One row per key found, in the order asked, and a total row over several.

    ``measures``: each found key's measures as read (``handler.reading.read_measures``); read from the item
    alone when not given, which an aggregation keeping min/max in the extremes table cannot do."""
    columns = [part.name for part in spec.group_parts] or [spec.group_by]
    names = [measure.name for measure in spec.measures]
    table = Table(title=f"{len(items)} of {len(keys)} aggregate(s) found")
    for column in columns:
        table.add_column(escape(column), overflow="fold")  # folded, never cut to "…": a narrow or piped output
    for name in names:
        table.add_column(escape(name), justify="right", overflow="fold")  # showed "12345678901…" as a total
    found = [(key, items[_text(key)]) for key in keys if _text(key) in items]
    values = {}
    for key, item in found:
        values[_text(key)] = measures[_text(key)] if measures is not None else read_measures(spec, item)
        parts = decode_key(key["S"]) if spec.group_parts else [_text(key)]
        table.add_row(*map(cell, parts), *(cell(_text(values[_text(key)].get(name))) for name in names))
    if len(found) > 1:
        totals = total_cells(spec, [item for _, item in found], list(values.values()))
        table.add_row("[bold]total", *[""] * (len(columns) - 1), *(totals[name] for name in names))
    return table


def total_cells(
    spec: AggregationSpec, items: Sequence[Mapping[str, AttributeValue]], values: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """The total row over several keys: sums and counts added exactly; an avg over all their items (their summed
    sums over their summed counts, never an average of averages); the smallest min and the largest max;
    nothing for ``latest``. "—" where a stored value is not a number."""
    cells: dict[str, str] = {}
    averages = {name: (total, count) for name, _, total, count in spec.averages}
    for measure in spec.measures:
        name = measure.name
        if measure.op in (MeasureOp.SUM, MeasureOp.COUNT):
            cells[name] = _number_cell(_sum(items, name))
        elif name in averages:
            total, count = (_sum(items, stored) for stored in averages[name])
            if total is None or count is None:
                cells[name] = "—"
            else:
                mean = average(total, count)
                cells[name] = "" if mean is None else str(mean)  # no item at all: no average, as on a row
        elif measure.op in (MeasureOp.MIN, MeasureOp.MAX):
            held = {str(index): value[name] for index, value in enumerate(values) if value.get(name) is not None}
            cells[name] = cell(_text(extreme_of(measure.op, held)))
        else:
            cells[name] = ""
    return cells


def _sum(items: Sequence[Mapping[str, AttributeValue]], name: str) -> Decimal | None:
    total: Decimal | None = Decimal(0)
    for item in items:
        total = _add(total, item.get(name))
    return total


def _number_cell(total: Decimal | None) -> str:
    return "—" if total is None else str(total)


def key_text(value: AttributeValue) -> str:
    """A key as text: how an item read is matched to the key asked for."""
    return _text(value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value)
    assert isinstance(value, dict)
    ((kind, raw),) = value.items()
    if kind == "B":
        return base64.b64encode(raw if isinstance(raw, bytes) else bytes(raw)).decode()
    return str(raw)


def _add(total: Decimal | None, value: AttributeValue | None) -> Decimal | None:
    if total is None or value is None:  # an item without the measure adds nothing
        return total
    if "N" not in value:
        return None
    try:
        return EXACT.add(total, Decimal(value["N"]))
    except DecimalException:
        return None


# --------------------------------------------------------------------------------------------------
# The bucket labels between two labels, for ``query --from --to``: pure.
#
# The operator's side of the labels the handler writes (handler/buckets.py ``label``): reading a label
# back to the wall-clock start of its bucket and stepping to the next, so a range is every label a
# handler could have written between the two, in order. Kept out of the Lambda package: only the
# operator reads ranges.

_LABEL_PATTERNS = {
    Bucket.MINUTE: re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"),
    Bucket.HOUR: re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2})"),
    Bucket.DAY: re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"),
    Bucket.WEEK: re.compile(r"([0-9]{4})-W([0-9]{2})"),
    Bucket.MONTH: re.compile(r"([0-9]{4})-([0-9]{2})"),
    Bucket.YEAR: re.compile(r"([0-9]{4})"),
}
"""The labels the handler writes, in ASCII digits: ``\\d`` also matches other scripts' digits, which ``int``
reads, so a fullwidth 2026-11 passed as a label no item has."""


def bucket_start(bucket: Bucket, text: str) -> datetime | None:
    """The wall-clock start of the bucket ``text`` labels, or None when it is not such a label."""
    match = _LABEL_PATTERNS[bucket].fullmatch(text)
    if match is None:
        return None
    numbers = [int(group) for group in match.groups()]
    try:
        if bucket is Bucket.WEEK:
            return datetime.fromisocalendar(numbers[0], numbers[1], 1)
        if bucket is Bucket.MONTH:
            return datetime(numbers[0], numbers[1], 1)
        if bucket is Bucket.YEAR:
            return datetime(numbers[0], 1, 1)
        return datetime(*numbers)  # type: ignore[arg-type]  # 3 to 5 fields, each in its place
    except ValueError:
        return None


_STEPS = {
    Bucket.MINUTE: timedelta(minutes=1),
    Bucket.HOUR: timedelta(hours=1),
    Bucket.DAY: timedelta(days=1),
    Bucket.WEEK: timedelta(days=7),
}
"""The fixed-length buckets' length in wall-clock time; months and years are stepped by the calendar."""


def next_bucket(bucket: Bucket, start: datetime) -> datetime:
    """The start of the bucket after the one starting at ``start`` (wall-clock time)."""
    if bucket is Bucket.MONTH:
        return datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    if bucket is Bucket.YEAR:
        return datetime(start.year + 1, 1, 1)
    return start + _STEPS[bucket]


def labels_between(bucket: Bucket, first: str, last: str, limit: int) -> list[str]:
    """Every label from ``first`` to ``last`` inclusive, in order; ``CommandError`` past ``limit`` labels.

    The doubled DST hour is one label and a skipped hour is a label no item can have: both follow
    from labelling wall-clock time.
    """
    start, end = bucket_start(bucket, first), bucket_start(bucket, last)
    if start is None or end is None:
        raise CommandError(f"{first!r} or {last!r} is not a {bucket.value} label")
    labels: list[str] = []
    while start <= end:
        if len(labels) == limit:
            raise CommandError(f"{first} to {last} is more than {limit} {bucket.value} buckets")
        labels.append(label(bucket, start))
        try:
            start = next_bucket(bucket, start)
        except (OverflowError, ValueError):  # past year 9999
            break
    return labels


def add_parser(subparsers: Any) -> None:
    query = subparsers.add_parser(
        "query",
        help="print one aggregate, or one key's time buckets over a range",
        epilog=exit_codes(
            "at least one aggregate found", "none found, or an error or refusal (the message says which)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    query.add_argument(
        "values",
        nargs="*",
        metavar="VALUE",
        help="one value per group_by part, in order (a binary group_by as base64, as DynamoDB's JSON writes it)",
    )
    query.add_argument("--from", dest="first", metavar="BUCKET", help="first bucket (a label or an ISO date/time)")
    query.add_argument("--to", dest="last", metavar="BUCKET", help="last bucket, inclusive")
    add_output_argument(query)
    add_target_arguments(query)
    query.set_defaults(run=main)


def main(args: argparse.Namespace, console: Console) -> int:
    result = run_query(resolve_target(args), args.values, args.first, args.last, console)
    if wants_json(args):
        print_json(query_document(result))
    return EXIT_OK if result.items else EXIT_ERROR
