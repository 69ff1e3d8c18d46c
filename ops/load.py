"""`load FILE`: its options, and the writes: every row validated first (ops.load_plan), then
BatchWriteItem in requests of 25.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from ._lambda_code import describe_error
from .errors import EXIT_ERROR, EXIT_OK, CommandError, exit_codes
from .load_plan import ParsedRow, RowError, UnreadableFile, plan_load
from .tables import check_tables, refuse_same_table
from .targets import Target, add_target_arguments, resolve_target
from .text import InputFileError, read_text

# --------------------------------------------------------------------------------------------------
# `load FILE`: validate the whole file, then write it (nothing at all under --strict if a row is bad).
#
# Messages name the
# file and line like a compiler's, ``path:line: reason``, and are escaped: a row is user data, and
# rich would read ``[/x]`` in it as markup.


def run_load(target: Target, path: Path, strict: bool, console: Console) -> LoadSummary:
    """Validate every row first; then load the good ones (none at all under --strict if any is bad)."""
    text = read_text(path)
    dynamodb = target.client("dynamodb")
    refuse_same_table(target.source_table, target.aggregate_table)
    check_tables(dynamodb, target.spec, target.source_table, None, string_keys=True)
    try:
        plan = plan_load(target.spec, text, "csv" if path.suffix.lower() == ".csv" else "jsonl", strict)
    except UnreadableFile as error:
        raise InputFileError(f"{path}:{error.line}: {error.reason}") from None
    if not (plan.rows or plan.errors or plan.warnings):
        raise InputFileError(f"{path}: no rows to load (an empty file, or a CSV header alone)")
    _print_rows(console, path, plan.warnings, "yellow")
    _print_rows(console, path, plan.errors, "red")
    summary = LoadSummary(rejected=plan.errors, skipped_duplicates=len(plan.warnings))
    if plan.errors and strict:
        console.print(f"--strict: {len(plan.errors)} bad row(s), nothing loaded")
        return summary
    written = 0
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"loading {target.source_table}", total=len(plan.rows))

            def advance(count: int) -> None:
                nonlocal written
                written += count
                progress.advance(task, count)

            summary.loaded = write_items(dynamodb, target.source_table, plan.rows, advance)
    except KeyboardInterrupt:
        console.print(
            f"interrupted: {written} of {len(plan.rows)} row(s) are in {target.source_table}, and perhaps the batch "
            "being written; loading the file again writes the same items again, which counts nothing twice"
        )
        raise
    skipped = f", {summary.skipped_duplicates} duplicate row(s) skipped" if summary.skipped_duplicates else ""
    console.print(f"loaded {summary.loaded} row(s), rejected {len(plan.errors)}{skipped}")
    return summary


def _print_rows(console: Console, path: Path, problems: list[RowError], colour: str) -> None:
    for problem in problems:
        console.print(f"[{colour}]{escape(str(path))}:{problem.line}[/]: {escape(problem.reason)}", soft_wrap=True)


# --------------------------------------------------------------------------------------------------
# `load FILE`: bulk-loading transactions into the source table with BatchWriteItem.
#
# 25 items a request (DynamoDB's limit); unprocessed items are retried with backoff until written,
# so a throttled load slows down rather than losing rows. Every row was validated before the first
# request (ops.load_plan), so a refused request means DynamoDB itself failed: the error says how
# far the load got, because BatchWriteItem cannot undo the requests that landed before it.

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestUnionTypeDef

BATCH_WRITE_LIMIT = 25
MAX_UNPROCESSED_ROUNDS = 8


@dataclass
class LoadSummary:
    loaded: int = 0
    rejected: list[RowError] = field(default_factory=list)
    skipped_duplicates: int = 0


def write_items(
    client: DynamoDBClient, table: str, rows: Sequence[ParsedRow], progress: Callable[[int], None] = lambda n: None
) -> int:
    """Write every row; returns how many were written. Raises ``CommandError`` if DynamoDB refuses."""
    written = 0
    for start in range(0, len(rows), BATCH_WRITE_LIMIT):
        chunk = rows[start : start + BATCH_WRITE_LIMIT]
        try:
            _write_chunk(client, table, chunk)
        except (ClientError, BotoCoreError, CommandError) as error:
            raise CommandError(
                f"{describe_error(error)}: the load stopped at line {chunk[0].line}; "
                f"the {written} row(s) before it are in {table}"
            ) from None
        written += len(chunk)
        progress(len(chunk))
    return written


def _write_chunk(client: DynamoDBClient, table: str, chunk: Sequence[ParsedRow]) -> None:
    requests: Sequence[WriteRequestUnionTypeDef] = [{"PutRequest": {"Item": row.item}} for row in chunk]
    for attempt in range(MAX_UNPROCESSED_ROUNDS):
        response = client.batch_write_item(RequestItems={table: requests})
        requests = response.get("UnprocessedItems", {}).get(table, [])
        if not requests:
            return
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise CommandError(f"DynamoDB left {len(requests)} items unprocessed after {MAX_UNPROCESSED_ROUNDS} tries")


LOAD_EXITS = exit_codes(
    "every row loaded",
    "a row was rejected (the others loaded, none under --strict), or an error told in one line",
    stopped="; it says how many rows are in (loading the file again is safe)",
)


def add_parser(subparsers: Any) -> None:
    load = subparsers.add_parser(
        "load",
        help="bulk-load transactions from CSV or JSON Lines into the source table",
        epilog=LOAD_EXITS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("file", type=Path)
    load.add_argument("--strict", action="store_true", help="load nothing if any row is bad")
    add_target_arguments(load)
    load.set_defaults(run=main)


def main(args: argparse.Namespace, console: Console) -> int:
    summary = run_load(resolve_target(args), args.file, args.strict, console)
    return EXIT_ERROR if summary.rejected else EXIT_OK
