"""min and max recounted from a scan of the source, and compared with what the extremes table holds. Pure.

A ledger aggregation's min/max live in the extremes table (``handler/extremes.py``): one entry per
(aggregate key, measure, contributing source item), ordered by value by a local secondary index,
so the extreme is the first entry of a Query. The entries, not only the extreme, are what keep the
next min or max exact when the current one goes away; so reconcile compares the entries themselves
(a missing, stray or wrong entry is drift even while the extreme it shows is still right), and
``--repair`` rebuilds exactly those: a Put of each entry the scan has and the table lacks or holds
with another value, a Delete of each entry the table holds for an item that does not contribute.

Which images count, their group and their value come from the handler's ``image_contribution``:
an image it calls invalid (a min/max attribute missing or of another type than declared)
contributes no entry, as in the handler. A value is compared as DynamoDB orders the index's sort key: numbers as
Decimal (``1.50`` and ``1.5`` are one value), strings by their UTF-8 bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._lambda_code import (
    EXTREMES_ITEM,
    EXTREMES_KEY,
    VALUE_ATTRIBUTE,
    AggregationSpec,
    AttributeValue,
    InvalidImage,
    MeasureOp,
    OrderedType,
    extremes_key,
    image_contribution,
    number_text,
    record_item_token,
)

Entries = dict[str, AttributeValue]
"""One (aggregate key, measure)'s entries: source item token -> its value, typed ({"N": "12.5"})."""


def order_key(value: AttributeValue) -> Decimal | bytes:
    """How the index orders a value: a number as Decimal, a string by its UTF-8 bytes."""
    if "N" in value:
        return Decimal(value["N"])
    return str(value["S"]).encode("utf-8")


def same_value(one: AttributeValue | None, other: AttributeValue | None) -> bool:
    """Equal as the index orders them (so ``1.50`` is ``1.5``); of one type, or both absent."""
    if one is None or other is None:
        return one is other
    return set(one) == set(other) and order_key(one) == order_key(other)


def extreme_of(op: MeasureOp, entries: Mapping[str, AttributeValue]) -> AttributeValue | None:
    """The min or max of the entries' values (what the index's first entry holds); None when there are none."""
    if not entries:
        return None
    pick = min if op is MeasureOp.MIN else max
    return pick(entries.values(), key=order_key)


def recount_entries(spec: AggregationSpec, images: Iterable[dict[str, Any]]) -> dict[tuple[str, str], Entries]:
    """The entries the extremes table should hold, by (group token, measure), from the source's images
    (in the stream's wire format, as ``ops.stream.wire_image`` gives a scanned item)."""
    expected: dict[tuple[str, str], Entries] = {}
    if not spec.extremes:
        return expected
    for image in images:
        try:
            contribution = image_contribution(spec, image)
            if contribution is None:
                continue
            item = record_item_token(spec, _keys(spec, image))
        except InvalidImage:
            continue  # counted as invalid by ops.recount.recompute, which reads the same images
        for name, value in contribution.extremes.items():  # the handler's value: a number in its one key text
            expected.setdefault((contribution.group_token, name), {})[item] = value
    return expected


def _keys(spec: AggregationSpec, image: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    names = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    return {name: image[name] for name in names if name in image}


def stored_entries(spec: AggregationSpec, items: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Entries]:
    """The extremes table's items (as a scan or Query returns them), by (group token, measure).

    An entry of a measure the spec does not declare, or under a key ``extremes_key`` did not write, is
    kept too, so it shows as stray and a repair deletes it."""
    stored: dict[tuple[str, str], Entries] = {}
    attributes = set(VALUE_ATTRIBUTE.values())
    for item in items:
        group_token, measure = _split_key(item[EXTREMES_KEY]["S"])
        values = [item[name] for name in sorted(attributes & set(item))]
        value = values[0] if len(values) == 1 else {"NULL": True}  # no value, or two: wrong either way
        stored.setdefault((group_token, measure), {})[item[EXTREMES_ITEM]["S"]] = value
    return stored


def _split_key(text: str) -> tuple[str, str]:
    """(group token, measure) of a partition key ``extremes_key`` wrote; (the text, "") for any other text:
    no measure is named "" (parse_spec), so such an entry is stray and ``partition_text`` gives it back."""
    try:
        group_token, measure = json.loads(text)
    except (ValueError, TypeError):
        return text, ""
    if not isinstance(group_token, str) or not isinstance(measure, str) or extremes_key(group_token, measure) != text:
        return text, ""
    return group_token, measure


def partition_text(group_token: str, measure: str) -> str:
    """The extremes table's partition key of (group token, measure) as ``stored_entries`` keys them."""
    return extremes_key(group_token, measure) if measure else group_token


@dataclass(frozen=True)
class ExtremeDrift:
    """One (aggregate key, min/max measure) whose entries differ from the recount."""

    group_token: str
    measure: str
    op: MeasureOp
    expected: AttributeValue | None
    """The recounted extreme; None when no item contributes."""
    actual: AttributeValue | None
    """The extreme the table's entries give (what a Query shows); None when it holds none."""
    puts: Entries = field(default_factory=dict)
    """Entries to write: missing from the table, or holding another value (``wrong``)."""
    wrong: frozenset[str] = frozenset()
    """Items among ``puts`` whose entry exists with another value."""
    deletes: Entries = field(default_factory=dict)
    """Entries of items that do not contribute (stray), with the value read."""
    read: Entries = field(default_factory=dict)
    """The table's entries of this key and measure as read: what each repair write is conditional on."""
    inline: bool = False
    """A single-source aggregate's min/max, held by the aggregate item itself: repaired with its sums."""

    @property
    def missing(self) -> int:
        return len(self.puts) - len(self.wrong)

    @property
    def extreme_wrong(self) -> bool:
        """The extreme a reader sees is not the recounted one (else only the entries behind it differ)."""
        return not same_value(self.expected, self.actual)


def compare_entries(
    spec: AggregationSpec,
    expected: Mapping[tuple[str, str], Entries],
    stored: Mapping[tuple[str, str], Entries],
) -> list[ExtremeDrift]:
    """Every (key, measure) whose entries are not exactly the recounted ones, sorted by key then measure."""
    declared = {extreme.name: extreme for extreme in spec.extremes}
    drifts: list[ExtremeDrift] = []
    for group_token, measure in sorted(set(expected) | set(stored)):
        want = expected.get((group_token, measure), {})
        have = stored.get((group_token, measure), {})
        puts = {item: value for item, value in want.items() if not same_value(value, have.get(item))}
        deletes = {item: value for item, value in have.items() if item not in want}
        if not puts and not deletes:
            continue
        extreme = declared.get(measure)
        op = extreme.op if extreme else MeasureOp.MAX  # a stray key of no declared measure: only deleted
        drifts.append(
            ExtremeDrift(
                group_token=group_token,
                measure=measure,
                op=op,
                expected=extreme_of(op, want),
                actual=extreme_of(op, _indexed(have, extreme.type)) if extreme else None,
                puts=puts,
                wrong=frozenset(item for item in puts if item in have),
                deletes=deletes,
                read=dict(have),
            )
        )
    return drifts


def _indexed(entries: Entries, kind: str) -> Entries:
    """The entries the measure's index holds: a local secondary index leaves out an item without its sort key
    (or with it of another type), so a Query never sees them."""
    return {item: value for item, value in entries.items() if set(value) == {kind}}


def compare_inline(
    spec: AggregationSpec,
    expected: Mapping[tuple[str, str], Entries],
    stored: Mapping[str, Mapping[str, AttributeValue]],
) -> list[ExtremeDrift]:
    """A single-source aggregation's min/max: the aggregate item's attribute (``stored``: by group token, the
    item's attributes as read) against its one source item's value; sorted by key then measure."""
    drifts = []
    for group_token in sorted({token for token, _ in expected} | set(stored)):
        for extreme in spec.extremes:
            want = extreme_of(extreme.op, expected.get((group_token, extreme.name), {}))
            have = stored.get(group_token, {}).get(extreme.name)
            if not same_value(want, have):
                drifts.append(ExtremeDrift(group_token, extreme.name, extreme.op, want, have, inline=True))
    return drifts


def extreme_json(value: AttributeValue | None) -> str | None:
    """A min or max in ``--output json``: its text, exact (a number as stored, never a float); None when none."""
    if value is None:
        return None
    ((_, raw),) = value.items()
    return str(raw)


# --------------------------------------------------------------------------------------------------
# `reconcile --repair` of the extremes table: one conditional write per entry. Pure.
#
# Each write lands only if the entry is still as read (absent, or with the value read), so an entry
# the handler's transaction wrote or deleted since the read makes that write fail, and the key is
# reported as changed meanwhile, as an aggregate repair is. Each write on its own moves the table
# towards the recount and none depends on another, so a repair stopped anywhere (Ctrl-C, an error)
# leaves no entry half-written: running reconcile again finds and repairs what is left.


def entry_writes(table: str, drift: ExtremeDrift) -> list[dict[str, Any]]:
    """The PutItem and DeleteItem requests ({"op": "put"|"delete", "request": ...}) that rebuild one key's entries."""
    partition = {EXTREMES_KEY: {"S": partition_text(drift.group_token, drift.measure)}}
    writes: list[dict[str, Any]] = []
    for item, value in sorted(drift.puts.items()):
        ((kind, raw),) = value.items()
        value_name = VALUE_ATTRIBUTE[OrderedType(kind)]
        entry = {**partition, EXTREMES_ITEM: {"S": item}, value_name: {kind: _wire_text(kind, raw)}}
        writes.append({"op": "put", "request": {"TableName": table, "Item": entry, **_as_read(drift.read.get(item))}})
    for item in sorted(drift.deletes):
        key = {**partition, EXTREMES_ITEM: {"S": item}}
        writes.append({"op": "delete", "request": {"TableName": table, "Key": key, **_as_read(drift.read[item])}})
    return writes


def _wire_text(kind: str, raw: Any) -> str:
    """A number in fixed-point form (DynamoDB refuses some exponent forms); a string as it is."""
    return number_text(Decimal(raw)) if kind == "N" else str(raw)


def _as_read(value: AttributeValue | None) -> dict[str, Any]:
    """The condition that the entry is as the scan read it: absent, or holding that value."""
    if value is None:
        return {"ConditionExpression": "attribute_not_exists(#i)", "ExpressionAttributeNames": {"#i": EXTREMES_ITEM}}
    ((kind, raw),) = value.items()
    if kind not in {member.value for member in OrderedType}:  # no value, or two: only that it exists
        return {"ConditionExpression": "attribute_exists(#i)", "ExpressionAttributeNames": {"#i": EXTREMES_ITEM}}
    return {
        "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": VALUE_ATTRIBUTE[OrderedType(kind)]},
        "ExpressionAttributeValues": {":v": {kind: raw}},
    }


# --------------------------------------------------------------------------------------------------
# `backfill`: the min/max of the items that predate the stream. Pure.
#
# An entry is a value, not an addition: every write of the handler for an item Puts the item's
# entries (or Deletes them when it stops counting), and a record that changes no measure is not
# written (handler.fold.written_extremes). So an item that existed at enablement and of which no
# record has been applied has no entry, and backfill writes it: for each item that counted toward a
# key at enablement and still does as scanned, its scanned value, in one transaction with the
# condition that the item's ledger entry for the key is absent (once the handler applied a record
# of it, its entry, or its absence, is newer than the scan) and that the entry is absent. A
# single-source aggregate's value is SET where absent, before the key's backfill write, on
# condition that the aggregate holds no stored position (ops/backfill.py, _seed_inline).


def seeded_entries(
    spec: AggregationSpec, initial: Iterable[dict[str, Any]], scanned: Iterable[dict[str, Any]]
) -> dict[str, list[tuple[str, str, AttributeValue]]]:
    """By group token: (measure, item token, scanned value) of each item that counted toward the key when the
    stream was enabled (``initial``) and counts toward it as scanned."""
    before, now = recount_entries(spec, initial), recount_entries(spec, scanned)
    seeded: dict[str, list[tuple[str, str, AttributeValue]]] = {}
    for (token, measure), items in sorted(before.items()):
        current = now.get((token, measure), {})
        seeded.setdefault(token, []).extend((measure, item, current[item]) for item in sorted(items) if item in current)
    return {token: entries for token, entries in seeded.items() if entries}


def seed_request(table: str, group_token: str, measure: str, item: str, value: AttributeValue) -> dict[str, Any]:
    """The PutItem of one seeded entry, only where the entry is absent."""
    ((kind, raw),) = value.items()
    entry = {
        EXTREMES_KEY: {"S": extremes_key(group_token, measure)},
        EXTREMES_ITEM: {"S": item},
        VALUE_ATTRIBUTE[OrderedType(kind)]: {kind: _wire_text(kind, raw)},
    }
    return {"TableName": table, "Item": entry, **_as_read(None)}
