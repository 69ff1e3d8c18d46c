"""Aggregating item images from scratch, with the handler's own contribution rules and arithmetic.

reconcile compares this with the aggregate table; backfill adds it for the items that predate the
stream. Both read items in the same wire format as stream images, so they reuse
``image_contribution`` and can never disagree with the handler about what counts.

Sums use the handler's exact context (``handler.fold.EXACT``), never Python's default one, which
rounds at 28 digits: a 30-digit total would be reported as drift and "repaired" to a rounded
value. A total that DynamoDB cannot store exactly (more than 38 significant digits, or out of its
range) is kept apart in ``unstorable`` with the reason, so no caller can write it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from typing import Any

from ._lambda_code import (
    EXACT,
    INTERNAL_PREFIX,
    AggregationSpec,
    AttributeValue,
    InvalidImage,
    image_contribution,
    storage_problem,
)

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
