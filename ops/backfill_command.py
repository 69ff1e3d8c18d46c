"""`backfill`: add the items that predate the stream to the aggregates, exactly once (ops.backfill).

Kept apart from argument parsing (__main__.py) so the tests call it directly. The whole stream is
read and every request built before the first write, so an incomplete read or a total DynamoDB
cannot store exactly stops the run with nothing written rather than halfway. A run stopped between
writes (an error, Ctrl-C) says how far it got: each key written is marked, so a rerun adds the rest.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import Progress

from ._lambda_code import describe_error
from .backfill import NOTHING_WRITTEN, backfill_request, first_records, initial_images
from .errors import CommandError
from .recompute import recompute, unstorable_totals
from .scan import parallel_scan
from .schema import check_tables
from .shard_reader import STREAMS_CLIENT_CONFIG
from .stream_events import wire_image
from .targets import Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

BACKFILL_ATTEMPTS = 5


def run_backfill(target: Target, console: Console) -> int:
    dynamodb, streams = target.client("dynamodb"), target.client("dynamodbstreams", config=STREAMS_CLIENT_CONFIG)
    check_tables(dynamodb, target.spec, target.source_table, target.aggregate_table)
    stream_arn = target.stream_arn()
    try:
        scanned = [wire_image(item) for item in parallel_scan(dynamodb, target.source_table)]
        first = first_records(streams, stream_arn, target.spec)
    except KeyboardInterrupt:
        console.print(f"interrupted while reading the table and its stream: {NOTHING_WRITTEN}")
        raise
    bases, invalid = recompute(target.spec, initial_images(target.spec, scanned, first))
    unstorable = unstorable_totals(bases)
    if unstorable:
        more = f" (and {len(unstorable) - 1} more)" if len(unstorable) > 1 else ""
        raise CommandError(f"{NOTHING_WRITTEN}: {unstorable[0]}{more}")
    stamp = datetime.now(UTC).isoformat()
    requests = [backfill_request(target.spec, target.aggregate_table, base, stamp) for base in bases.values()]
    written = done = 0
    refused: list[str] = []
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("backfilling", total=len(requests))
            for token, request in zip(bases, requests, strict=True):
                try:
                    written += _write_backfill(dynamodb, request)
                except ClientError as error:
                    if error.response["Error"]["Code"] != "ValidationException":
                        raise
                    refused.append(f"{token}: {describe_error(error)}")
                done += 1
                progress.advance(task)
    except KeyboardInterrupt:
        console.print(f"interrupted: {_stopped(done, len(requests))}")
        raise
    except (ClientError, BotoCoreError) as error:
        raise CommandError(f"{describe_error(error)}: {_stopped(done, len(requests))}") from None
    console.print(
        f"backfilled {written} aggregate(s) from {len(scanned)} item(s) and {len(first)} changed since the stream "
        f"began; {len(bases) - written - len(refused)} already done; {invalid} invalid item(s) left out"
    )
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise CommandError(
            f"DynamoDB refused {len(refused)} aggregate(s), left without their items from before the stream: "
            f"{refused[0]}{more}. `reconcile` shows them"
        )
    return written


def _stopped(done: int, total: int) -> str:
    """Where a run that stopped between writes left the aggregates, and why a rerun is exact."""
    return (
        f"backfill stopped after {done} of {total} aggregate(s); each one written is marked, so running backfill "
        "again adds the rest, each exactly once (within 23 hours of the stream's enablement; later, reconcile "
        "--repair)"
    )


def _write_backfill(dynamodb: DynamoDBClient, request: UpdateTypeDef) -> int:
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
