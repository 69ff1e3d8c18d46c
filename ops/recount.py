"""The pure side of reconcile and backfill: aggregates recomputed from item images with the handler's
own rules, compared with the table's, and the keys `reconcile --key` names.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from pathlib import Path
from typing import Any

from ._lambda_code import (
    EXACT,
    INTERNAL_PREFIX,
    MAX_COMPOSITE_KEY_BYTES,
    NUMBER_SYNTAX,
    AggregationSpec,
    AttributeValue,
    HandlerError,
    InvalidImage,
    average,
    decode_key,
    encode_key,
    image_contribution,
    key_token,
    storage_problem,
    zone,
)
from .errors import CommandError
from .extremes_recount import ExtremeDrift
from .query import part_text, single_key
from .text import numbered_lines, read_text

# --------------------------------------------------------------------------------------------------
# Aggregating item images from scratch, with the handler's own contribution rules and arithmetic.
#
# reconcile compares this with the aggregate table; backfill adds it for the items that predate the
# stream. Both read items in the same wire format as stream images, so they reuse
# ``image_contribution`` and can never disagree with the handler about what counts.
#
# Sums use the handler's exact context (``handler.fold.EXACT``), never Python's default one, which
# rounds at 28 digits: a 30-digit total would be reported as drift and "repaired" to a rounded
# value. A total that DynamoDB cannot store exactly (more than 38 significant digits, or out of its
# range) is kept apart in ``unstorable`` with the reason, so no caller can write it.

ZERO = Decimal(0)
BACKFILL_MARKER = f"{INTERNAL_PREFIX}backfill"
"""On an aggregate item: its items that predate the stream are in it. backfill ADDs them only where it is
absent; reconcile --repair sets it, since a repaired total counts every item, those included."""


@dataclass
class GroupTotals:
    group_value: AttributeValue
    numbers: dict[str, Decimal] = field(default_factory=dict)
    """sum and count measures that DynamoDB can store exactly."""
    latest: dict[str, AttributeValue] = field(default_factory=dict)
    """The last value seen in iteration order (not stream order: a scan has none)."""
    unstorable: dict[str, str] = field(default_factory=dict)
    """measure -> why its exact total cannot be stored; such a measure is not in ``numbers``."""


def recompute(spec: AggregationSpec, images: Iterable[dict[str, Any]]) -> tuple[dict[str, GroupTotals], int]:
    """Totals per group token over the valid, filter-passing images; returns (totals, invalid count)."""
    totals: dict[str, GroupTotals] = {}
    invalid = 0
    for image in images:
        try:
            contribution = image_contribution(spec, image)
        except InvalidImage:
            invalid += 1
            continue
        if contribution is None:
            continue
        entry = totals.setdefault(contribution.group_token, GroupTotals(contribution.group_value))
        for name, value in contribution.numbers.items():
            if name not in entry.unstorable:
                _add(entry, name, value)
        entry.latest.update(contribution.latest)
    for entry in totals.values():
        for name, total in list(entry.numbers.items()):
            problem = storage_problem(total)
            if problem:
                entry.unstorable[name] = f"{total} {problem}"
                del entry.numbers[name]
    return totals, invalid


def _add(entry: GroupTotals, name: str, value: Decimal) -> None:
    try:
        entry.numbers[name] = EXACT.add(entry.numbers.get(name, ZERO), value)
    except DecimalException:  # EXACT traps Inexact: the exact sum has more digits than it holds
        entry.unstorable[name] = f"needs more than {EXACT.prec} digits"
        entry.numbers.pop(name, None)


def unstorable_totals(totals: dict[str, GroupTotals]) -> list[str]:
    """One line per total DynamoDB cannot store exactly, naming its key and measure."""
    return [
        f"{token} {name}: the exact total {reason}"
        for token, entry in sorted(totals.items())
        for name, reason in entry.unstorable.items()
    ]


# --------------------------------------------------------------------------------------------------
# `reconcile`: recompute the aggregates from the source table and compare them with the table.
#
# The recomputation uses the handler's own contribution rules (a scanned item has the same wire
# format as a stream image), so reconcile can never disagree with the handler about what counts.
# Only sum and count measures can be recomputed; `latest` depends on stream order, not on state.
#
# A measure is compared as stored, type and all: a ``Total`` stored as a string is a drift that
# shows the string, not a 0, and its repair conditions on the string (see ops.reconcile). Differences
# are exact (``handler.fold.EXACT``) or not shown at all.


@dataclass
class KeyTotals:
    group_value: AttributeValue
    stored: dict[str, AttributeValue] = field(default_factory=dict)
    """The aggregate item's added numbers (and a single-source min/max) as read, whatever their type."""
    internal: dict[str, AttributeValue] = field(default_factory=dict)
    """The aggregate item's handler attributes (its stream position, if single-source) as read."""


@dataclass(frozen=True)
class Drift:
    group_token: str
    group_value: AttributeValue
    measure: str
    expected: Decimal
    stored: AttributeValue | None
    """The measure as the aggregate table holds it; None when the item or the measure is absent."""

    @property
    def actual(self) -> Decimal | None:
        """The stored number (0 when absent); None when it is stored with another type."""
        return stored_number(self.stored)

    @property
    def difference(self) -> Decimal | None:
        """actual - expected, exactly; None when there is no exact number to give."""
        actual = self.actual
        if actual is None:
            return None
        try:
            return EXACT.subtract(actual, self.expected)
        except DecimalException:
            return None


@dataclass
class Report:
    drifts: list[Drift]
    keys_checked: int
    invalid_items: int
    unstorable: list[str] = field(default_factory=list)
    """Totals DynamoDB cannot store exactly (ops.recount.unstorable_totals): never written."""
    absent: list[str] = field(default_factory=list)
    """Keys named (``reconcile --key``) that neither table holds: no source item counts for them, no aggregate."""
    extreme_drifts: list[ExtremeDrift] = field(default_factory=list)
    """min/max whose extremes-table entries differ from the recount (ops.extremes_recount)."""
    averages: list[AverageDrift] = field(default_factory=list)
    """The averages that the drifted sums and counts make wrong (``average_drifts``)."""
    repaired: int = 0
    repaired_entries: int = 0
    """Extremes-table entries written or deleted by --repair."""
    skipped_changed: list[str] = field(default_factory=list)


def measured(spec: AggregationSpec) -> list[str]:
    """The numbers the aggregate item keeps by ADD (sums, counts, each avg's sum and count): what is recounted."""
    return list(spec.stored_numbers)


def inline_extremes(spec: AggregationSpec) -> list[str]:
    """The min/max the aggregate item holds itself (a single-source aggregation's); else they are elsewhere."""
    return [] if spec.uses_extremes_table else [extreme.name for extreme in spec.extremes]


def stored_number(value: AttributeValue | None) -> Decimal | None:
    if value is None:
        return ZERO
    text = value.get("N") if len(value) == 1 else None
    return Decimal(text) if isinstance(text, str) and NUMBER_SYNTAX.fullmatch(text) else None


def actual_totals(spec: AggregationSpec, table: str, items: Iterable[dict[str, Any]]) -> dict[str, KeyTotals]:
    """The aggregate table's items by group token; ``CommandError`` if one cannot be an aggregate."""
    names = measured(spec) + inline_extremes(spec)
    totals: dict[str, KeyTotals] = {}
    for item in items:
        group_value = item.get(spec.group_by)
        if group_value is None:
            raise CommandError(f"table {table} has an item without spec group_by {spec.group_by!r}")
        try:
            token = _token(spec, group_value)  # a binary key is bytes here, as boto3 returns it
        except InvalidImage as error:
            raise CommandError(f"table {table}: {error}") from None
        entry = KeyTotals(group_value)
        entry.stored = {name: item[name] for name in names if name in item}
        entry.internal = {name: value for name, value in item.items() if name.startswith(INTERNAL_PREFIX)}
        totals[token] = entry
    return totals


def compare(spec: AggregationSpec, expected: dict[str, GroupTotals], actual: dict[str, KeyTotals]) -> list[Drift]:
    """Every measure whose stored value is not exactly the recomputed number (unstorable ones left out)."""
    drifts: list[Drift] = []
    for token in sorted(set(expected) | set(actual)):
        want, have = expected.get(token), actual.get(token)
        group_value = want.group_value if want is not None else actual[token].group_value
        for name in measured(spec):
            if want and name in want.unstorable:
                continue
            number = want.numbers.get(name, ZERO) if want else ZERO
            stored = have.stored.get(name) if have else None
            if stored_number(stored) != number:
                drifts.append(Drift(token, group_value, name, number, stored))
    return drifts


@dataclass(frozen=True)
class AverageDrift:
    """An avg whose stored sum or count drifted: the average a reader sees, and the one it should."""

    group_token: str
    measure: str
    expected: Decimal | None
    actual: Decimal | None
    """None when no item counts (count 0), or a stored part is not a number."""


def average_drifts(spec: AggregationSpec, drifts: list[Drift], actual: dict[str, KeyTotals]) -> list[AverageDrift]:
    """Each avg of a key whose ``<name>_sum`` or ``<name>_count`` drifted, read with ``handler.reading.average``."""
    found = {(drift.group_token, drift.measure): drift for drift in drifts}
    result = []
    for token in sorted({drift.group_token for drift in drifts}):
        held = actual[token].stored if token in actual else {}
        for name, _, total, count in spec.averages:
            if (token, total) not in found and (token, count) not in found:
                continue
            want = [
                found[(token, part)].expected if (token, part) in found else stored_number(held.get(part))
                for part in (total, count)
            ]
            have = [stored_number(held.get(part)) for part in (total, count)]
            result.append(AverageDrift(token, name, _mean(want), _mean(have)))
    return result


def _mean(parts: list[Decimal | None]) -> Decimal | None:
    total, count = parts
    return None if total is None or count is None else average(total, count)


# --------------------------------------------------------------------------------------------------
# `reconcile --key`: which aggregate keys the operator named, and how to read only their source items. Pure.
#
# A key is written as reconcile's drift table and replay's "needs reconcile" list print it: the
# handler's group token (``handler.attributes.key_token``), its type, a colon, its text: ``S:INV-1``,
# ``N:1.5``, ``B:AAE=``, and for a composite group_by the encoded key (``S:C-17#2026-11-28``). So
# what replay names can be pasted as it is, and ``--keys-from`` reads one such key per line.
#
# A key is checked against the spec and the aggregate table's key type, and must be spelled as the
# handler writes it: ``N:1.50`` or a part ``2026-11-28T09:00`` instead of its label name the same
# aggregate under another spelling, and the error says the spelling to use. A key the spec cannot
# produce at all (a number where group_by is a string, two parts where it has three) is refused:
# reconciling it would only report that it exists nowhere.
#
# Source items are read by a Query on the partition key when group_by is the partition key; else by
# a scan filtered on the group_by attribute (or the composite's attribute parts; time buckets are
# labels of dates, which a filter cannot compute, so they are kept client-side). Whatever is read,
# only the keys named are compared: the filter saves reading, it never decides what counts.

KEY_FORM = "write a key as reconcile and replay print it: S:<text>, N:<number> or B:<base64>"
FROM_JSON = (
    "a JSON document, not one key a line: jq -r '.batches[].keys_to_reconcile[]' makes the keys of replay's, "
    "jq -r '.drifts[].key' of reconcile's, jq -r '.aggregates[].key' of query's"
)
"""A key starts with its type (``S:``), never with ``{`` or ``[``: such a file is a command's ``--output json``."""
MAX_FILTER_CHARS = 4000
"""An expression is at most 4 KB (DynamoDB's expression parameters limits)."""
MAX_OPERATORS = 300
"""Operators (=, AND, OR, IN) an expression may hold."""
MAX_IN_VALUES = 100
"""Values an IN comparison may name."""


@dataclass(frozen=True)
class NamedKey:
    token: str
    """As the handler and reconcile's report spell it: ``S:INV-1``."""
    value: AttributeValue
    """The aggregate key for a client call (a binary key as bytes)."""


def parse_key(spec: AggregationSpec, text: str, key_type: str, where: str = "--key") -> NamedKey:
    """The aggregate key ``text`` names; ``CommandError`` naming ``where`` and the key when the spec cannot
    produce it or the handler spells it otherwise."""
    kind, colon, raw = text.partition(":")
    shown = f"{where} {text[:80]!r}"
    if not colon or kind not in ("S", "N", "B"):
        raise CommandError(f"{shown}: {KEY_FORM}")
    if kind != key_type:
        raise CommandError(f"{shown}: the aggregate table's key {spec.group_by!r} has type {key_type}, not {kind}")
    try:
        value = _composite(spec, raw) if spec.group_parts else single_key(spec.group_by, raw, kind)
    except (CommandError, HandlerError) as error:
        raise CommandError(f"{shown}: {error}") from None
    token = _token(spec, value)
    if token != text:
        raise CommandError(f"{shown} is not spelled as the handler writes it: {token!r} names that aggregate")
    return NamedKey(token, value)


def _composite(spec: AggregationSpec, raw: str) -> AttributeValue:
    texts = decode_key(raw)
    if len(texts) != len(spec.group_parts):
        names = "#".join(part.name for part in spec.group_parts)
        raise CommandError(f"it has {len(texts)} part(s); group_by {names!r} has {len(spec.group_parts)}")
    tz = zone(spec.timezone)
    key = encode_key([part_text(part, text, tz) for part, text in zip(spec.group_parts, texts, strict=True)])
    if len(key.encode()) > MAX_COMPOSITE_KEY_BYTES:
        raise CommandError(f"longer than {MAX_COMPOSITE_KEY_BYTES} bytes: the handler writes no such composite key")
    return {"S": key}


def _token(spec: AggregationSpec, value: AttributeValue) -> str:
    """The handler's group token of a key as a client call takes or returns it: a binary key is bytes there,
    and base64 text in the stream's images, which ``key_token`` reads."""
    raw = value.get("B")
    if isinstance(raw, bytes):
        return f"B:{base64.b64encode(raw).decode()}"
    return key_token(value, spec.group_by)


def parse_keys(spec: AggregationSpec, texts: Iterable[str], key_type: str, path: Path | None) -> list[NamedKey]:
    """The keys of ``--key`` and of the file ``--keys-from`` (one a line, blank lines skipped), each once,
    in the order given."""
    named = [parse_key(spec, text, key_type) for text in texts]
    if path is not None:
        for number, line in numbered_lines(read_text(path)):
            if line.lstrip().startswith(("{", "[")):
                raise CommandError(f"{path}:{number}: {FROM_JSON}")
            if line:
                named.append(parse_key(spec, line, key_type, f"{path}:{number}:"))
    unique = {key.token: key for key in named}
    if not unique:
        raise CommandError(f"{path} names no key: {KEY_FORM}, one a line")
    return list(unique.values())


def reads_by_query(spec: AggregationSpec) -> bool:
    """Each key's source items are one partition of the source table: a Query reads them, no scan."""
    return not spec.group_parts and spec.group_by == spec.partition_key


def query_request(spec: AggregationSpec, table: str, key: NamedKey) -> dict[str, Any]:
    """The Query of the source items of ``key`` (``reads_by_query``), strongly consistent as reconcile's scan."""
    return {
        "TableName": table,
        "KeyConditionExpression": "#k = :k",
        "ExpressionAttributeNames": {"#k": spec.partition_key},
        "ExpressionAttributeValues": {":k": key.value},
        "ConsistentRead": True,
    }


def scan_filter(spec: AggregationSpec, keys: Sequence[NamedKey]) -> dict[str, Any]:
    """The Scan parameters whose FilterExpression passes every source item of the keys (and few others).

    Empty (an unfiltered scan, the keys picked out client-side) when group_by's parts are all time
    buckets, or when the keys are more than one expression may name: a filter saves transfer, not
    read capacity, so several filtered scans would cost several whole-table reads where one does.
    """
    attributes = _filtered_attributes(spec)
    distinct = {repr(values): values for values in (_filter_values(spec, key) for key in keys)}
    tuples = list(distinct.values())  # composite keys of one customer and several days: one condition
    if not attributes or not tuples:
        return {}
    names = {f"#a{index}": attribute for index, attribute in enumerate(attributes)}
    values: dict[str, AttributeValue] = {}
    for number, parts in enumerate(tuples):
        values.update({f":v{number}_{index}": value for index, value in enumerate(parts)})
    if len(attributes) == 1:  # IN: one comparison of up to 100 values
        if len(tuples) > MAX_IN_VALUES:
            return {}
        expression = f"#a0 IN ({', '.join(values)})"
    else:
        operators = len(tuples) * (2 * len(attributes) - 1) + len(tuples) - 1  # =, AND within; OR between
        conditions = (
            "(" + " AND ".join(f"#a{index} = :v{number}_{index}" for index in range(len(attributes))) + ")"
            for number in range(len(tuples))
        )
        expression = " OR ".join(conditions)
        if operators > MAX_OPERATORS:
            return {}
    if len(expression) > MAX_FILTER_CHARS:
        return {}
    return {"FilterExpression": expression, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _filtered_attributes(spec: AggregationSpec) -> list[str]:
    """The source attributes of the group_by parts a filter can compare: every part but time buckets."""
    if not spec.group_parts:
        return [spec.group_by]
    return [part.attribute for part in spec.group_parts if part.bucket is None]


def _filter_values(spec: AggregationSpec, key: NamedKey) -> list[AttributeValue]:
    """The key's values of those attributes, typed as the source holds them."""
    if not spec.group_parts:
        return [key.value]
    texts = decode_key(key.value["S"])
    return [{part.type: text} for part, text in zip(spec.group_parts, texts, strict=True) if part.bucket is None]
