"""`reconcile`: recompute the aggregates from the source table and compare them with the table.

The recomputation uses the handler's own contribution rules (a scanned item has the same wire
format as a stream image), so reconcile can never disagree with the handler about what counts.
Only sum and count measures can be recomputed; `latest` depends on stream order, not on state.

A measure is compared as stored, type and all: a ``Total`` stored as a string is a drift that
shows the string, not a 0, and its repair conditions on the string (see ops.repair). Differences
are exact (``handler.fold.EXACT``) or not shown at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from typing import Any

from ._lambda_code import (
    EXACT,
    INTERNAL_PREFIX,
    NUMBER_SYNTAX,
    AggregationSpec,
    AttributeValue,
    InvalidImage,
    key_token,
)
from .errors import CommandError
from .recompute import ZERO, GroupTotals


@dataclass
class KeyTotals:
    group_value: AttributeValue
    stored: dict[str, AttributeValue] = field(default_factory=dict)
    """The aggregate item's sum and count measures as read, whatever their type."""
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
    """Totals DynamoDB cannot store exactly (ops.recompute.unstorable_totals): never written."""
    absent: list[str] = field(default_factory=list)
    """Keys named (``reconcile --key``) that neither table holds: no source item counts for them, no aggregate."""
    repaired: int = 0
    skipped_changed: list[str] = field(default_factory=list)


def measured(spec: AggregationSpec) -> list[str]:
    return [name for name, _ in spec.sums] + list(spec.counts)


def stored_number(value: AttributeValue | None) -> Decimal | None:
    if value is None:
        return ZERO
    text = value.get("N") if len(value) == 1 else None
    return Decimal(text) if isinstance(text, str) and NUMBER_SYNTAX.fullmatch(text) else None


def actual_totals(spec: AggregationSpec, table: str, items: Iterable[dict[str, Any]]) -> dict[str, KeyTotals]:
    """The aggregate table's items by group token; ``CommandError`` if one cannot be an aggregate."""
    names = measured(spec)
    totals: dict[str, KeyTotals] = {}
    for item in items:
        group_value = item.get(spec.group_by)
        if group_value is None:
            raise CommandError(f"table {table} has an item without spec group_by {spec.group_by!r}")
        try:
            token = key_token(group_value, spec.group_by)
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
