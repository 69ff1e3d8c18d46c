"""`reconcile [--key KEY ...] [--repair]`: read both tables (or the keys named), show the drift, repair it if asked.

Kept apart from argument parsing (__main__.py) so the tests call it directly. A total DynamoDB
cannot store exactly makes ``--repair`` write nothing: the run could not be complete, and a
partial repair would hide that behind keys that look fixed.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from ._lambda_code import describe_error
from .describe import cell
from .drift_table import drift_table
from .errors import CommandError
from .query import not_found_notes
from .query_command import read_keys
from .recompute import recompute, unstorable_totals
from .reconcile import Drift, KeyTotals, Report, actual_totals, compare
from .reconcile_keys import NamedKey, parse_keys, query_request, reads_by_query, scan_filter
from .repair import repair_request
from .scan import parallel_scan
from .schema import check_tables, key_schema
from .stream_events import wire_image
from .targets import Target

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
        help="only this aggregate key, as reconcile and replay print it (S:INV-1, N:7, S:C-17#2026-11-28); "
        "may be given several times",
    )
    parser.add_argument(
        "--keys-from",
        type=Path,
        metavar="FILE",
        help="only the keys in FILE, one a line as reconcile and replay print them",
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
    expected, invalid = recompute(target.spec, (wire_image(item) for item in source))
    absent: list[str] = []
    if named is not None:
        tokens = {key.token for key in named}
        expected = {token: totals for token, totals in expected.items() if token in tokens}
        actual = {token: totals for token, totals in actual.items() if token in tokens}
        absent = [key.token for key in named if key.token not in expected and key.token not in actual]
    report = Report(
        drifts=compare(target.spec, expected, actual),
        keys_checked=len(named) if named is not None else len(set(expected) | set(actual)),
        invalid_items=invalid,
        unstorable=unstorable_totals(expected),
        absent=absent,
    )
    console.print(drift_table(report))
    if absent:
        shown = ", ".join(cell(token) for token in absent)
        console.print(f"in neither table (no source item counts for it, no aggregate): {shown}", soft_wrap=True)
        for note in not_found_notes([token.partition(":")[2] for token in absent]):
            console.print(f"note: {cell(note)}", soft_wrap=True, highlight=False)
    for message in report.unstorable:
        console.print(f"[red]cannot store exactly:[/] {escape(message)}", soft_wrap=True)
    if repair and report.unstorable:
        raise CommandError(f"--repair wrote nothing: {len(report.unstorable)} total(s) cannot be stored exactly")
    if repair and report.drifts:
        _repair(target, report, actual, console)
    return report


def _named_source(
    dynamodb: DynamoDBClient, target: Target, named: list[NamedKey], segments: int, progress: Callable[[int], None]
) -> list[dict[str, Any]]:
    """The source items of the keys named (and, from a filtered scan, perhaps a few others)."""
    if not reads_by_query(target.spec):
        return parallel_scan(dynamodb, target.source_table, segments, progress, scan_filter(target.spec, named))
    items: list[dict[str, Any]] = []
    for key in named:
        request: Any = query_request(target.spec, target.source_table, key)
        while True:
            page = dynamodb.query(**request)
            items.extend(page.get("Items", []))
            progress(len(page.get("Items", [])))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def _repair(target: Target, report: Report, actual: dict[str, KeyTotals], console: Console) -> None:
    by_key: dict[str, list[Drift]] = defaultdict(list)
    for drift in report.drifts:
        by_key[drift.group_token].append(drift)
    requests = {
        token: repair_request(target.spec, target.aggregate_table, drifts, actual.get(token))
        for token, drifts in by_key.items()
    }
    dynamodb = target.client("dynamodb")
    try:
        for token, request in requests.items():
            _repair_key(dynamodb, token, request, report)
    except KeyboardInterrupt:
        console.print(f"interrupted: {_stopped(report, len(requests))}")
        raise
    except (ClientError, BotoCoreError) as error:
        raise CommandError(f"{describe_error(error)}: {_stopped(report, len(requests))}") from None
    console.print(f"repaired {report.repaired} key(s)")
    if report.skipped_changed:
        console.print(f"skipped {len(report.skipped_changed)} key(s) the stream updated meanwhile: run reconcile again")


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
        f"--repair stopped after repairing {report.repaired} of {total} drifted key(s) (and skipping "
        f"{len(report.skipped_changed)}); each repair is conditional on the key being as read, so run reconcile "
        "again to see and repair what is left"
    )
