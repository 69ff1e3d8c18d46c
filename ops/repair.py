"""One key's repair request for `reconcile --repair`: pure.

Repair is a conditional write per drifted key: it only lands if every measure of the item (and,
for single-source aggregations, its stream position) is exactly as read, so a stream update
applied meanwhile makes the repair skip that key rather than be overwritten; so does a stream
transaction in flight on the item, which DynamoDB refuses the repair for (TransactionConflict).
It is safe when the stream has caught up for the keys repaired (IteratorAge near 0) and nobody
writes those keys during the run; otherwise the drift may just be records in flight.

A repaired key is marked as backfilled (``BACKFILL_MARKER``, if absent): its new total counts every
item, those that predate the stream included, and a backfill after it would add those again.

The condition compares each measure with the value read *with its type*: a ``Total`` stored as
the string "35" is matched as {"S": "35"}, or the condition could never hold and the key would be
skipped as "changed meanwhile" on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lambda_code import AggregationSpec, Expression, key_attributes, update_request
from .numbers import storable_text
from .recompute import BACKFILL_MARKER
from .reconcile import Drift, KeyTotals, measured

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

REPAIRED = "reconcile --repair"
"""The backfill marker's value on a key a repair set (backfill writes its time)."""


def repair_request(spec: AggregationSpec, table: str, drifts: list[Drift], actual: KeyTotals | None) -> UpdateTypeDef:
    """Set the drifted measures of one key, only if the item is still as read."""
    expression = Expression()
    names, values = expression.names, expression.values
    conditions = []
    for index, drift in enumerate(drifts):
        expression.set(f"m{index}", drift.measure, {"N": storable_text(drift.expected, drift.measure)})
    expression.set_if_absent("b", BACKFILL_MARKER, {"S": REPAIRED})
    if actual is None:
        names["#g"] = spec.group_by
        conditions.append("attribute_not_exists(#g)")
        for index, (name, value) in enumerate(key_attributes(spec, drifts[0].group_value).items()):
            expression.set(f"p{index}", name, value)  # a new item: its parts, as the handler writes them
    else:
        placeholders = {drift.measure: f"m{index}" for index, drift in enumerate(drifts)}
        for index, name in enumerate(measured(spec)):
            placeholder = placeholders.get(name, f"k{index}")
            names[f"#{placeholder}"] = name
            if name in actual.stored:
                values[f":o{placeholder}"] = actual.stored[name]
                conditions.append(f"#{placeholder} = :o{placeholder}")
            else:
                conditions.append(f"attribute_not_exists(#{placeholder})")
        for index, (name, value) in enumerate(sorted(actual.internal.items())):
            names[f"#w{index}"] = name
            values[f":w{index}"] = value
            conditions.append(f"#w{index} = :w{index}")
    return update_request(table, {spec.group_by: drifts[0].group_value}, expression, " AND ".join(conditions))
