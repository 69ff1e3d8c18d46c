"""`reconcile`: recompute the aggregates from the source table and compare them with the table.

The recomputation uses the handler's own contribution rules (a scanned item has the same wire
format as a stream image), so reconcile can never disagree with the handler about what counts.
Only sum and count measures can be recomputed; `latest` depends on stream order, not on state.

Repair is a conditional write per drifted key: it only lands if every measure of the item (and,
for single-source aggregations, its stream position) is exactly as read, so a stream update
applied meanwhile makes the repair skip that key rather than be overwritten; so does a stream
transaction in flight on the item, which DynamoDB refuses the repair for (TransactionConflict).
It is safe when the stream has caught up for the keys repaired (IteratorAge near 0) and nobody
writes those keys during the run; otherwise the drift may just be records in flight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from handler.attributes import AttributeValue, key_token, number_text
from handler.spec import INTERNAL_PREFIX, AggregationSpec

from .recompute import GroupTotals


@dataclass
class KeyTotals:
    group_value: AttributeValue
    numbers: dict[str, Decimal] = field(default_factory=dict)
    internal: dict[str, AttributeValue] = field(default_factory=dict)
    """The aggregate item's handler attributes (its stream position, if single-source) as read."""


@dataclass(frozen=True)
class Drift:
    group_token: str
    group_value: AttributeValue
    measure: str
    expected: Decimal
    actual: Decimal

    @property
    def difference(self) -> Decimal:
        return self.actual - self.expected


@dataclass
class Report:
    drifts: list[Drift]
    keys_checked: int
    invalid_items: int
    repaired: int = 0
    skipped_changed: list[str] = field(default_factory=list)


def actual_totals(spec: AggregationSpec, items: Iterable[dict[str, Any]]) -> dict[str, KeyTotals]:
    measured = [name for name, _ in spec.sums] + list(spec.counts)
    totals: dict[str, KeyTotals] = {}
    for item in items:
        group_value = item[spec.group_by]
        entry = KeyTotals(group_value)
        entry.numbers = {name: Decimal(item[name]["N"]) for name in measured if "N" in item.get(name, {})}
        entry.internal = {name: value for name, value in item.items() if name.startswith(INTERNAL_PREFIX)}
        totals[key_token(group_value, spec.group_by)] = entry
    return totals


def compare(spec: AggregationSpec, expected: dict[str, GroupTotals], actual: dict[str, KeyTotals]) -> list[Drift]:
    measured = [name for name, _ in spec.sums] + list(spec.counts)
    drifts: list[Drift] = []
    for token in sorted(set(expected) | set(actual)):
        group_value = expected[token].group_value if token in expected else actual[token].group_value
        for name in measured:
            want = expected[token].numbers.get(name, Decimal(0)) if token in expected else Decimal(0)
            have = actual[token].numbers.get(name, Decimal(0)) if token in actual else Decimal(0)
            if want != have:
                drifts.append(Drift(token, group_value, name, want, have))
    return drifts


def repair_request(spec: AggregationSpec, table: str, drifts: list[Drift], actual: KeyTotals | None) -> dict[str, Any]:
    """One key's repair: set the drifted measures, only if the item is still as read."""
    names: dict[str, str] = {}
    values: dict[str, AttributeValue] = {}
    sets = []
    conditions = []
    for index, drift in enumerate(drifts):
        names[f"#m{index}"] = drift.measure
        values[f":m{index}"] = {"N": number_text(drift.expected)}
        sets.append(f"#m{index} = :m{index}")
        if actual is not None and drift.measure in actual.numbers:
            values[f":o{index}"] = {"N": number_text(drift.actual)}
            conditions.append(f"#m{index} = :o{index}")
        elif actual is not None:
            conditions.append(f"attribute_not_exists(#m{index})")
    if actual is None:
        names["#g"] = spec.group_by
        conditions.append("attribute_not_exists(#g)")
    else:
        drifted = {drift.measure for drift in drifts}
        for index, (name, number) in enumerate(sorted(actual.numbers.items())):
            if name not in drifted:
                names[f"#k{index}"], values[f":k{index}"] = name, {"N": number_text(number)}
                conditions.append(f"#k{index} = :k{index}")
        for index, (name, value) in enumerate(sorted(actual.internal.items())):
            names[f"#w{index}"] = name
            values[f":w{index}"] = value
            conditions.append(f"#w{index} = :w{index}")
    request: dict[str, Any] = {
        "TableName": table,
        "Key": {spec.group_by: drifts[0].group_value},
        "UpdateExpression": "SET " + ", ".join(sets),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    request["ConditionExpression"] = " AND ".join(conditions)
    return request
