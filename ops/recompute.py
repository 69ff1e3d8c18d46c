"""Aggregating item images from scratch, with the handler's own contribution rules.

reconcile compares this with the aggregate table; backfill adds it for the items that predate the
stream. Both read items in the same wire format as stream images, so they reuse
``image_contribution`` and can never disagree with the handler about what counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from handler.attributes import AttributeValue
from handler.contribution import image_contribution
from handler.errors import InvalidImage
from handler.spec import AggregationSpec


@dataclass
class GroupTotals:
    group_value: AttributeValue
    numbers: dict[str, Decimal] = field(default_factory=dict)
    """sum and count measures."""
    latest: dict[str, AttributeValue] = field(default_factory=dict)
    """The last value seen in iteration order (not stream order: a scan has none)."""


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
            entry.numbers[name] = entry.numbers.get(name, Decimal(0)) + value
        entry.latest.update(contribution.latest)
    return totals, invalid
