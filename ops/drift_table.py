"""The drift report as the operator reads it: a rich table, pure apart from rendering.

Totals are per measure: a sum of differences across measures would add money to counts. Every
value that comes from a table is escaped, because rich would read ``[bold]`` in a key as markup.
"""

from __future__ import annotations

from decimal import Decimal, DecimalException

from rich.markup import escape
from rich.table import Table

from ._lambda_code import EXACT, AttributeValue
from .reconcile import Drift, Report

NO_NUMBER = "—"


def drift_table(report: Report) -> Table:
    table = Table(title=f"{len(report.drifts)} drift(s) over {report.keys_checked} key(s)")
    for column in ("key", "measure", "expected", "actual", "difference"):
        table.add_column(column, justify="left" if column in ("key", "measure") else "right")
    for drift in report.drifts:
        table.add_row(
            escape(drift.group_token),
            escape(drift.measure),
            str(drift.expected),
            escape(shown(drift.stored)),
            _number(drift.difference),
        )
    for measure, total in measure_totals(report.drifts).items():
        table.add_row("[bold]total", escape(measure), "", "", f"[bold]{_number(total)}")
    table.caption = f"{report.invalid_items} invalid source item(s) left out, as the handler does"
    return table


def shown(value: AttributeValue | None) -> str:
    """A stored measure: the number if it is one, else its type and value."""
    if value is None:
        return "absent"
    ((kind, raw),) = value.items()
    if kind == "N":
        return str(raw)
    text = repr(raw)
    return f"{kind} {text if len(text) <= 40 else text[:39] + '…'}"


def measure_totals(drifts: list[Drift]) -> dict[str, Decimal | None]:
    """Each measure's total difference, exact; None where one is not a number or the sum is inexact."""
    totals: dict[str, Decimal | None] = {}
    for drift in drifts:
        totals[drift.measure] = _exact_sum(totals.get(drift.measure, Decimal(0)), drift.difference)
    return totals


def _exact_sum(total: Decimal | None, difference: Decimal | None) -> Decimal | None:
    if total is None or difference is None:
        return None
    try:
        return EXACT.add(total, difference)
    except DecimalException:
        return None


def _number(value: Decimal | None) -> str:
    return NO_NUMBER if value is None else str(value)
