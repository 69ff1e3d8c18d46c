"""The operator commands: each one reads its target, does its work with progress, and reports.

Kept apart from argument parsing (__main__.py) so the tests call them directly.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from .backfill import backfill_request, first_records, initial_images
from .demo import Discard, poller_for
from .emulator import moto_server
from .loader import LoadSummary, write_items
from .local_resources import LOCAL_AGGREGATE_TABLE, LOCAL_SOURCE_TABLE, create_invoice_aggregator
from .recompute import recompute
from .reconcile import Drift, KeyTotals, Report, actual_totals, compare, repair_request
from .rows import parse_file
from .scan import parallel_scan
from .stream_events import wire_image
from .targets import Target

CHANGED_MEANWHILE = ("ConditionalCheckFailedException", "TransactionConflictException")
"""A repair meets a stream update: applied since the read, or a transaction on the item in flight."""
BACKFILL_ATTEMPTS = 5


class CommandError(RuntimeError):
    """A command that cannot go on; its message is the one line the operator sees."""


def run_load(target: Target, path: Path, strict: bool, console: Console) -> LoadSummary:
    """Validate every row first; then load the good ones (none at all under --strict if any is bad)."""
    file_format = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    rows, errors = parse_file(target.spec, text, file_format)
    for problem in errors:
        console.print(f"[yellow]{path.name}:{problem.line}[/]: {problem.reason}")
    summary = LoadSummary(rejected=errors)
    if errors and strict:
        console.print(f"--strict: {len(errors)} bad row(s), nothing loaded")
        return summary
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"loading {target.source_table}", total=len(rows))
        summary.loaded = write_items(
            target.client("dynamodb"), target.source_table, rows, lambda n: progress.advance(task, n)
        )
    console.print(f"loaded {summary.loaded} row(s), rejected {len(errors)}")
    return summary


def run_reconcile(target: Target, repair: bool, segments: int, console: Console) -> Report:
    dynamodb = target.client("dynamodb")
    with Progress(console=console, transient=True) as progress:
        reading = progress.add_task("scanning", total=None)
        actual = actual_totals(target.spec, parallel_scan(dynamodb, target.aggregate_table, segments))
        source = parallel_scan(dynamodb, target.source_table, segments, lambda n: progress.advance(reading, n))
    expected, invalid = recompute(target.spec, (wire_image(item) for item in source))
    report = Report(
        drifts=compare(target.spec, expected, actual),
        keys_checked=len(set(expected) | set(actual)),
        invalid_items=invalid,
    )
    console.print(_drift_table(report))
    if repair and report.drifts:
        _repair(target, report, actual, console)
    return report


def _drift_table(report: Report) -> Table:
    table = Table(title=f"{len(report.drifts)} drift(s) over {report.keys_checked} key(s)")
    for column in ("key", "measure", "expected", "actual", "difference"):
        table.add_column(column, justify="left" if column in ("key", "measure") else "right")
    for drift in report.drifts:
        table.add_row(drift.group_token, drift.measure, str(drift.expected), str(drift.actual), str(drift.difference))
    if report.drifts:
        total = sum((d.difference for d in report.drifts), start=type(report.drifts[0].difference)(0))
        table.add_row("[bold]total", "", "", "", f"[bold]{total}")
    table.caption = f"{report.invalid_items} invalid source item(s) left out, as the handler does"
    return table


def _repair(target: Target, report: Report, actual: dict[str, KeyTotals], console: Console) -> None:
    by_key: dict[str, list[Drift]] = defaultdict(list)
    for drift in report.drifts:
        by_key[drift.group_token].append(drift)
    dynamodb = target.client("dynamodb")
    for token, drifts in by_key.items():
        try:
            dynamodb.update_item(**repair_request(target.spec, target.aggregate_table, drifts, actual.get(token)))
            report.repaired += 1
        except ClientError as error:
            if error.response["Error"]["Code"] not in CHANGED_MEANWHILE:
                raise
            report.skipped_changed.append(token)
    console.print(f"repaired {report.repaired} key(s)")
    if report.skipped_changed:
        console.print(f"skipped {len(report.skipped_changed)} key(s) the stream updated meanwhile: run reconcile again")


def run_backfill(target: Target, console: Console) -> int:
    dynamodb, streams = target.client("dynamodb"), target.client("dynamodbstreams")
    stream_arn = target.stream_arn()
    scanned = [wire_image(item) for item in parallel_scan(dynamodb, target.source_table)]
    first = first_records(streams, stream_arn, target.spec)
    bases, invalid = recompute(target.spec, initial_images(target.spec, scanned, first))
    stamp = datetime.now(UTC).isoformat()
    written = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("backfilling", total=len(bases))
        for base in bases.values():
            written += _write_backfill(dynamodb, backfill_request(target.spec, target.aggregate_table, base, stamp))
            progress.advance(task)
    console.print(
        f"backfilled {written} aggregate(s) from {len(scanned)} item(s) and {len(first)} changed since the stream "
        f"began; {len(bases) - written} already done; {invalid} invalid item(s) left out"
    )
    return written


def _write_backfill(dynamodb: Any, request: dict[str, Any]) -> int:
    """1 if written, 0 if the key was already backfilled; waits out a stream transaction in flight."""
    for attempt in range(BACKFILL_ATTEMPTS):
        try:
            dynamodb.update_item(**request)
            return 1
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                return 0
            if code != "TransactionConflictException" or attempt == BACKFILL_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    return 0


def run_emulator(port: int, console: Console, seconds: float | None = None) -> None:
    """A persistent local stack: moto on a fixed port, the invoice tables, the poller running."""
    with moto_server(port) as endpoint:
        aggregator = create_invoice_aggregator(endpoint, "local")
        poller = poller_for(endpoint, aggregator, summary_stream=Discard())
        console.print(f"emulator on {endpoint.url}: {LOCAL_SOURCE_TABLE} -> {LOCAL_AGGREGATE_TABLE}; Ctrl-C stops it")
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            poller.poll_once(flush=False)
            time.sleep(0.2)
