"""What an aggregate item means, measure by measure: pure, no AWS.

The item stores only what later updates can build on exactly: sums and counts, an avg's sum and
count, a single-source min/max's one value (ledger aggregations keep min/max in the extremes table,
read by ``extremes_query``). The average is computed here, on read, and never written, so no update
ever starts from a rounded number. ``ops query``, ``ops reconcile`` and users' own readers call this
one function so that they all show the same value.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal

from .attributes import MAX_NUMBER_DIGITS, AttributeValue, number_text
from .errors import HandlerError
from .spec import EXTREME_OPS, AggregationSpec

AVERAGE_CONTEXT = Context(prec=MAX_NUMBER_DIGITS, rounding=ROUND_HALF_EVEN)
"""The stated precision of an average: 38 significant digits (DynamoDB's), rounded half to even."""


def average(total: Decimal, count: Decimal) -> Decimal | None:
    """``total / count`` to 38 significant digits, half to even; None when nothing contributes (count 0)."""
    if count == 0:
        return None
    return AVERAGE_CONTEXT.divide(total, count)


def read_measures(
    spec: AggregationSpec,
    item: Mapping[str, AttributeValue],
    extremes: Mapping[str, AttributeValue | None] | None = None,
) -> dict[str, AttributeValue | None]:
    """Each measure's value as a typed attribute value (``{"N": "12.5"}``), or None where it has none.

    ``item``: the aggregate item as the low-level client returns it. ``extremes``: min/max by name,
    as ``extremes_query.read_extremes`` returns them; needed only when ``spec.uses_extremes_table``
    (a single-source aggregate holds its min/max itself). An avg with no contributing item is None.

    Raises
    ------
    HandlerError
        When the spec keeps min/max in the extremes table and ``extremes`` lacks one.
    """
    averages = {name: (total, count) for name, _, total, count in spec.averages}
    values: dict[str, AttributeValue | None] = {}
    for measure in spec.measures:
        if measure.name in averages:
            values[measure.name] = _average_value(item, *averages[measure.name])
        elif measure.op in EXTREME_OPS and spec.uses_extremes_table:
            if extremes is None or measure.name not in extremes:
                raise HandlerError(f"min/max {measure.name!r} lives in the extremes table: read it first")
            values[measure.name] = extremes[measure.name]
        else:
            values[measure.name] = item.get(measure.name)
    return values


def _average_value(item: Mapping[str, AttributeValue], total_name: str, count_name: str) -> AttributeValue | None:
    total, count = item.get(total_name), item.get(count_name)
    if total is None or count is None:
        return None
    result = average(Decimal(total["N"]), Decimal(count["N"]))
    return None if result is None else {"N": number_text(result)}
