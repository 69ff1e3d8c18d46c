"""`reconcile [--key KEY ...] [--repair]`: its options, the run (read, compare, show), the drift table,
and the conditional repair of each drifted key.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal, DecimalException
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from ._lambda_code import (
    EXACT,
    AggregationSpec,
    AttributeValue,
    Expression,
    describe_error,
    key_attributes,
    update_request,
)
from .errors import EXIT_ATTENTION, EXIT_OK, CommandError, exit_codes
from .extremes_read import read_key_entries
from .extremes_recount import (
    ExtremeDrift,
    compare_entries,
    compare_inline,
    entry_writes,
    extreme_json,
    recount_entries,
    stored_entries,
)
from .query import not_found_notes, read_keys
from .recount import (
    BACKFILL_MARKER,
    Drift,
    KeyTotals,
    NamedKey,
    Report,
    actual_totals,
    average_drifts,
    compare,
    inline_extremes,
    measured,
    parse_keys,
    query_request,
    reads_by_query,
    recompute,
    scan_filter,
    unstorable_totals,
)
from .stream import wire_image
from .tables import check_extremes_table, check_tables, key_schema, parallel_scan, query_all
from .targets import EXTREMES_FLAG, Target, add_target_arguments, resolve_target, whole_number
from .text import add_output_argument, cell, number_json, print_json, storable_text, wants_json

# --------------------------------------------------------------------------------------------------
# `reconcile [--key KEY ...] [--repair]`: read both tables (or the keys named), show the drift, repair it if asked.
#
# A total DynamoDB
# cannot store exactly makes ``--repair`` write nothing: the run could not be complete, and a
# partial repair would hide that behind keys that look fixed.

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

CHANGED_MEANWHILE = ("ConditionalCheckFailedException", "TransactionConflictException")
"""A repair meets a stream update: applied since the read, or a transaction on the item in flight."""


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    """``--key`` and ``--keys-from``: check (and repair) only the aggregate keys named."""
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="KEY",
        help="only this aggregate key, as reconcile and replay print it (S:INV-1, N:7, B:<base64>, "
        "S:C-17#2026-11-28); "
        "may be given several times",
    )
    parser.add_argument(
        "--keys-from",
        type=Path,
        metavar="FILE",
        help="only the keys in FILE, one a line as reconcile and replay print them (a command's --output json "
        "is refused: the error gives the jq line that makes such a file of it)",
    )


def run_reconcile(
    target: Target,
    repair: bool,
    segments: int,
    console: Console,
    keys: Sequence[str] = (),
    keys_from: Path | None = None,
) -> Report:
    dynamodb = target.client("dynamodb")
    check_tables(dynamodb, target.spec, target.source_table, target.aggregate_table)
    named = None
    if keys or keys_from is not None:
        key_type = key_schema(dynamodb, target.aggregate_table)["HASH"][1]
        named = parse_keys(target.spec, keys, key_type, keys_from)
    with Progress(console=console, transient=True) as progress:
        reading = progress.add_task("scanning", total=None)
        advance = lambda n: progress.advance(reading, n)  # noqa: E731
        if named is None:
            aggregates = parallel_scan(dynamodb, target.aggregate_table, segments)
            source = parallel_scan(dynamodb, target.source_table, segments, advance)
        else:
            found = read_keys(dynamodb, target.aggregate_table, target.spec, [key.value for key in named])
            aggregates = list(found.values())
            source = _named_source(dynamodb, target, named, segments, advance)
        actual = actual_totals(target.spec, target.aggregate_table, aggregates)
        entries = _extremes_entries(dynamodb, target, named, segments)
    images = [wire_image(item) for item in source]
    expected, invalid = recompute(target.spec, images)
    wanted_entries = recount_entries(target.spec, images)
    absent: list[str] = []
    if named is not None:
        tokens = {key.token for key in named}
        expected = {token: totals for token, totals in expected.items() if token in tokens}
        actual = {token: totals for token, totals in actual.items() if token in tokens}
        wanted_entries = {key: value for key, value in wanted_entries.items() if key[0] in tokens}
        absent = [key.token for key in named if key.token not in expected and key.token not in actual]
    if entries is not None:
        extreme_drifts = compare_entries(target.spec, wanted_entries, entries)
    else:  # a single-source aggregate holds its min/max itself
        held = {token: totals.stored for token, totals in actual.items()}
        extreme_drifts = compare_inline(target.spec, wanted_entries, held)
    drifts = compare(target.spec, expected, actual)
    report = Report(
        drifts=drifts,
        averages=average_drifts(target.spec, drifts, actual),
        keys_checked=len(named) if named is not None else len(set(expected) | set(actual)),
        invalid_items=invalid,
        unstorable=unstorable_totals(expected),
        absent=absent,
        extreme_drifts=extreme_drifts,
    )
    console.print(drift_table(report))
    for mean in report.averages:
        console.print(
            f"{escape(mean.group_token)} {escape(mean.measure)} (avg): expected {_number(mean.expected)}, "
            f"reads {_number(mean.actual)}",
            soft_wrap=True,
            highlight=False,
        )
    if report.extreme_drifts:
        console.print(extremes_table(report.extreme_drifts))
    if absent:
        shown = ", ".join(cell(token) for token in absent)
        console.print(f"in neither table (no source item counts for it, no aggregate): {shown}", soft_wrap=True)
        for note in not_found_notes([token.partition(":")[2] for token in absent]):
            console.print(f"note: {cell(note)}", soft_wrap=True, highlight=False)
    for message in report.unstorable:
        console.print(f"[red]cannot store exactly:[/] {escape(message)}", soft_wrap=True)
    if repair and report.unstorable:
        raise CommandError(f"--repair wrote nothing: {len(report.unstorable)} total(s) cannot be stored exactly")
    if repair and (report.drifts or report.extreme_drifts):
        group_values = {token: totals.group_value for token, totals in actual.items()}
        group_values.update({token: totals.group_value for token, totals in expected.items()})
        _repair(target, report, actual, group_values, console)
    return report


def _extremes_entries(
    dynamodb: DynamoDBClient, target: Target, named: list[NamedKey] | None, segments: int
) -> dict[tuple[str, str], dict[str, AttributeValue]] | None:
    """The extremes table's entries (of the keys named), by (key, measure); None when there is no such table.

    For named keys, every partition of theirs whatever the measure is not read (an entry under an undeclared
    measure's key is found by a whole-table run only)."""
    if not target.spec.uses_extremes_table:
        return None
    table = str(target.extremes())
    check_extremes_table(dynamodb, table, EXTREMES_FLAG)
    if named is None:
        items = parallel_scan(dynamodb, table, segments)
    else:
        items = read_key_entries(dynamodb, table, [key.token for key in named], target.spec.extremes)
    return stored_entries(target.spec, items)


def _named_source(
    dynamodb: DynamoDBClient, target: Target, named: list[NamedKey], segments: int, progress: Callable[[int], None]
) -> list[dict[str, Any]]:
    """The source items of the keys named (and, from a filtered scan, perhaps a few others)."""
    if not reads_by_query(target.spec):
        return parallel_scan(dynamodb, target.source_table, segments, progress, scan_filter(target.spec, named))
    items: list[dict[str, Any]] = []
    for key in named:
        items.extend(query_all(dynamodb, query_request(target.spec, target.source_table, key), progress))
    return items


def _repair(
    target: Target, report: Report, actual: dict[str, KeyTotals], keys: dict[str, AttributeValue], console: Console
) -> None:
    """``keys``: each drifted key's value by group token (a key with only min/max drift has no ``Drift``)."""
    by_key: dict[str, list[Drift]] = defaultdict(list)
    for drift in report.drifts:
        by_key[drift.group_token].append(drift)
    inline: dict[str, list[ExtremeDrift]] = defaultdict(list)
    for extreme in report.extreme_drifts:
        if extreme.inline:
            inline[extreme.group_token].append(extreme)
    requests = {
        token: repair_request(
            target.spec,
            target.aggregate_table,
            by_key.get(token, []),
            actual.get(token),
            inline.get(token, ()),
            keys.get(token),
        )
        for token in dict.fromkeys([*by_key, *inline])
    }
    entry_drifts = [drift for drift in report.extreme_drifts if not drift.inline]
    dynamodb = target.client("dynamodb")
    total = len(requests) + len(entry_drifts)
    try:
        for token, request in requests.items():
            _repair_key(dynamodb, token, request, report)
        for entries in entry_drifts:
            _repair_entries(dynamodb, str(target.extremes()), entries, report)
    except KeyboardInterrupt:
        console.print(f"interrupted: {_stopped(report, total)}")
        raise
    except (ClientError, BotoCoreError) as error:
        raise CommandError(f"{describe_error(error)}: {_stopped(report, total)}") from None
    console.print(f"repaired {report.repaired} key(s)")
    if entry_drifts:
        console.print(
            f"rebuilt the min/max entries of {len(entry_drifts)} key and measure pair(s): "
            f"{report.repaired_entries} entry(ies) written or deleted"
        )
    if report.skipped_changed:
        console.print(f"skipped {len(report.skipped_changed)} key(s) the stream updated meanwhile: run reconcile again")


def _repair_entries(dynamodb: DynamoDBClient, table: str, drift: ExtremeDrift, report: Report) -> None:
    """One key and measure's entries, each write conditional on the entry as read: one that changed meanwhile
    (the handler's transaction wrote it) is left, and the key reported as changed."""
    changed = False
    for write in entry_writes(table, drift):
        try:
            if write["op"] == "put":
                dynamodb.put_item(**write["request"])
            else:
                dynamodb.delete_item(**write["request"])
            report.repaired_entries += 1
        except ClientError as error:
            if error.response["Error"]["Code"] not in CHANGED_MEANWHILE:
                raise
            changed = True
    if changed and drift.group_token not in report.skipped_changed:
        report.skipped_changed.append(drift.group_token)


def _repair_key(dynamodb: DynamoDBClient, token: str, request: UpdateTypeDef, report: Report) -> None:
    try:
        dynamodb.update_item(**request)
        report.repaired += 1
    except ClientError as error:
        if error.response["Error"]["Code"] not in CHANGED_MEANWHILE:
            raise
        report.skipped_changed.append(token)


def _stopped(report: Report, total: int) -> str:
    """Where a repair stopped midway left the table, and why running reconcile again is safe."""
    return (
        f"--repair stopped after repairing {report.repaired} of {total} drifted key(s) and min/max entry set(s) "
        f"({report.repaired_entries} min/max entry(ies) written or deleted; skipping {len(report.skipped_changed)}); "
        "each write is conditional on the key or entry being as read and none depends on another, so run "
        "reconcile again to see and repair what is left"
    )


# --------------------------------------------------------------------------------------------------
# The drift report as the operator reads it: a rich table, pure apart from rendering.
#
# Totals are per measure: a sum of differences across measures would add money to counts. Every
# value that comes from a table is escaped, because rich would read ``[bold]`` in a key as markup.

NO_NUMBER = "—"


def reconcile_document(report: Report, repair: bool) -> dict[str, Any]:
    """`reconcile --output json`: every drift with the key as `--key` takes it; numbers as exact text and
    the stored value in DynamoDB's typed form (a measure stored as a string is shown as one)."""
    return {
        "keys_checked": report.keys_checked,
        "invalid_items": report.invalid_items,
        "drifts": [
            {
                "key": drift.group_token,
                "measure": drift.measure,
                "expected": number_json(drift.expected),
                "stored": drift.stored,
                "difference": number_json(drift.difference),
            }
            for drift in report.drifts
        ],
        "totals": {measure: number_json(total) for measure, total in measure_totals(report.drifts).items()},
        "averages": [
            {
                "key": mean.group_token,
                "measure": mean.measure,
                "expected": number_json(mean.expected),
                "actual": number_json(mean.actual),
            }
            for mean in report.averages
        ],
        "extremes": [extreme_drift_json(drift) for drift in report.extreme_drifts],
        "unstorable": list(report.unstorable),
        "absent": list(report.absent),
        "repair": repair,
        "repaired": report.repaired,
        "repaired_entries": report.repaired_entries,
        "skipped_changed": list(report.skipped_changed),
    }


def drift_table(report: Report) -> Table:
    table = Table(title=f"{len(report.drifts)} drift(s) over {report.keys_checked} key(s)")
    for column in ("key", "measure", "expected", "actual", "difference"):
        # folded, never cut to "…": a key or a stored value is what the operator looks up or repairs
        table.add_column(column, justify="left" if column in ("key", "measure") else "right", overflow="fold")
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


def extreme_drift_json(drift: ExtremeDrift) -> dict[str, Any]:
    """One min/max whose entries drifted: the extreme expected and the one a reader sees, as exact text, and
    how many entries are missing, stray (an item that does not count) or wrong (another value)."""
    return {
        "key": drift.group_token,
        "measure": drift.measure,
        "op": drift.op.value,
        "expected": extreme_json(drift.expected),
        "actual": extreme_json(drift.actual),
        "missing": drift.missing,
        "stray": len(drift.deletes),
        "wrong": len(drift.wrong),
    }


def extremes_table(drifts: list[ExtremeDrift]) -> Table:
    """min/max drift: the extreme a reader sees, and the entries behind it that differ from the recount."""
    table = Table(title=f"{len(drifts)} min/max drift(s) in the extremes table")
    for column in ("key", "measure", "expected", "actual", "missing", "stray", "wrong"):
        table.add_column(column, justify="left" if column in ("key", "measure") else "right", overflow="fold")
    for drift in drifts:
        table.add_row(
            escape(drift.group_token),
            escape(drift.measure),
            escape(_extreme_cell(drift.expected)),
            escape(_extreme_cell(drift.actual)),
            str(drift.missing),
            str(len(drift.deletes)),
            str(len(drift.wrong)),
        )
    table.caption = "missing: a counted item has no entry; stray: an entry of an item not counted; wrong: another value"
    return table


def _extreme_cell(value: AttributeValue | None) -> str:
    text = extreme_json(value)
    return NO_NUMBER if text is None else text


def shown(value: AttributeValue | None) -> str:
    """A stored measure: the number if it is one, else its type and value."""
    if value is None:
        return "absent"
    ((kind, raw),) = value.items()
    if kind == "N":
        return str(raw)
    return f"{kind} {raw!r}"


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


# --------------------------------------------------------------------------------------------------
# One key's repair request for `reconcile --repair`: pure.
#
# Repair is a conditional write per drifted key: it only lands if every measure of the item (and,
# for single-source aggregations, its stream position) is exactly as read, so a stream update
# applied meanwhile makes the repair skip that key rather than be overwritten; so does a stream
# transaction in flight on the item, which DynamoDB refuses the repair for (TransactionConflict).
# It is safe when the stream has caught up for the keys repaired (IteratorAge near 0) and nobody
# writes those keys during the run; otherwise the drift may just be records in flight.
#
# A repaired key is marked as backfilled (``BACKFILL_MARKER``, if absent): its new total counts every
# item, those that predate the stream included, and a backfill after it would add those again.
#
# The condition compares each measure with the value read *with its type*: a ``Total`` stored as
# the string "35" is matched as {"S": "35"}, or the condition could never hold and the key would be
# skipped as "changed meanwhile" on every run.

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

REPAIRED = "reconcile --repair"
"""The backfill marker's value on a key a repair set (backfill writes its time)."""


def repair_request(
    spec: AggregationSpec,
    table: str,
    drifts: list[Drift],
    actual: KeyTotals | None,
    inline: Sequence[ExtremeDrift] = (),
    group_value: AttributeValue | None = None,
) -> UpdateTypeDef:
    """Set the drifted measures of one key (and SET or REMOVE its drifted single-source min/max, ``inline``),
    only if the item is still as read. ``group_value``: the key, needed when ``drifts`` is empty."""
    expression = Expression()
    names, values = expression.names, expression.values
    conditions = []
    for index, drift in enumerate(drifts):
        expression.set(f"m{index}", drift.measure, {"N": storable_text(drift.expected, drift.measure)})
    for index, extreme in enumerate(inline):
        if extreme.expected is None:
            expression.remove(f"x{index}", extreme.measure)
        else:
            expression.set(f"x{index}", extreme.measure, extreme.expected)
    expression.set_if_absent("b", BACKFILL_MARKER, {"S": REPAIRED})
    key = drifts[0].group_value if drifts else group_value
    if key is None:
        raise ValueError("repair_request needs the key: a drift, or group_value")
    if actual is None:
        names["#g"] = spec.group_by
        conditions.append("attribute_not_exists(#g)")
        for index, (name, value) in enumerate(key_attributes(spec, key).items()):
            expression.set(f"p{index}", name, value)  # a new item: its parts, as the handler writes them
    else:
        placeholders = {drift.measure: f"m{index}" for index, drift in enumerate(drifts)}
        placeholders.update({extreme.measure: f"x{index}" for index, extreme in enumerate(inline)})
        for index, name in enumerate(measured(spec) + inline_extremes(spec)):
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
    return update_request(table, {spec.group_by: key}, expression, " AND ".join(conditions))


MAX_SEGMENTS = 64
"""Parallel scan workers: beyond this a thread each only queues requests (and 20,000 hung for minutes)."""
RECONCILE_EXITS = exit_codes(
    "no drift (with --repair: every drifted key repaired)",
    "an error told in one line (--repair writes nothing when a total cannot be stored exactly)",
    found="drift (a sum, count or avg's part, or a min/max entry missing, stray or wrong), or a total that cannot "
    "be stored, was found (with --repair: a key or entry the stream changed meanwhile was skipped: run again)",
    stopped="; it says how many keys were repaired: run again",
)


def add_parser(subparsers: Any) -> None:
    reconcile = subparsers.add_parser(
        "reconcile",
        help="recompute aggregates from the source and show the drift",
        epilog=RECONCILE_EXITS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reconcile.add_argument("--repair", action="store_true", help="rewrite drifted aggregates (conditional writes)")
    reconcile.add_argument(
        "--segments",
        type=whole_number(1, MAX_SEGMENTS),
        default=4,
        help=f"parallel scan segments, 1 to {MAX_SEGMENTS} (default %(default)s)",
    )
    add_key_arguments(reconcile)
    add_output_argument(reconcile)
    add_target_arguments(reconcile)
    reconcile.set_defaults(run=main)


def main(args: argparse.Namespace, console: Console) -> int:
    report = run_reconcile(resolve_target(args), args.repair, args.segments, console, args.key, args.keys_from)
    if wants_json(args):
        print_json(reconcile_document(report, args.repair))
    found = report.skipped_changed if args.repair else report.drifts or report.extreme_drifts or report.unstorable
    return EXIT_ATTENTION if found else EXIT_OK
