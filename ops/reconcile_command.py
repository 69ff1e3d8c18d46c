"""`reconcile [--repair]`: scan both tables, show the drift, and repair it if asked.

Kept apart from argument parsing (__main__.py) so the tests call it directly. A total DynamoDB
cannot store exactly makes ``--repair`` write nothing: the run could not be complete, and a
partial repair would hide that behind keys that look fixed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from handler.errors import describe_error

from .drift_table import drift_table
from .errors import CommandError
from .recompute import recompute, unstorable_totals
from .reconcile import Drift, KeyTotals, Report, actual_totals, compare
from .repair import repair_request
from .scan import parallel_scan
from .schema import check_tables
from .stream_events import wire_image
from .targets import Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

CHANGED_MEANWHILE = ("ConditionalCheckFailedException", "TransactionConflictException")
"""A repair meets a stream update: applied since the read, or a transaction on the item in flight."""


def run_reconcile(target: Target, repair: bool, segments: int, console: Console) -> Report:
    dynamodb = target.client("dynamodb")
    check_tables(dynamodb, target.spec, target.source_table, target.aggregate_table)
    with Progress(console=console, transient=True) as progress:
        reading = progress.add_task("scanning", total=None)
        aggregates = parallel_scan(dynamodb, target.aggregate_table, segments)
        actual = actual_totals(target.spec, target.aggregate_table, aggregates)
        source = parallel_scan(dynamodb, target.source_table, segments, lambda n: progress.advance(reading, n))
    expected, invalid = recompute(target.spec, (wire_image(item) for item in source))
    report = Report(
        drifts=compare(target.spec, expected, actual),
        keys_checked=len(set(expected) | set(actual)),
        invalid_items=invalid,
        unstorable=unstorable_totals(expected),
    )
    console.print(drift_table(report))
    for message in report.unstorable:
        console.print(f"[red]cannot store exactly:[/] {escape(message)}", soft_wrap=True)
    if repair and report.unstorable:
        raise CommandError(f"--repair wrote nothing: {len(report.unstorable)} total(s) cannot be stored exactly")
    if repair and report.drifts:
        _repair(target, report, actual, console)
    return report


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
