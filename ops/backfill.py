"""`backfill`: its options and the run that adds the items that predate the stream, exactly once."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import Progress

from ._lambda_code import (
    IMAGES_CARRIED,
    INLINE_POSITION,
    LEDGER_KEY,
    AggregationSpec,
    AttributeValue,
    EventName,
    Expression,
    creation_seconds,
    describe_error,
    key_attributes,
    key_token,
    ledger_id,
    update_request,
)
from .errors import EXIT_OK, CommandError, OpsError, exit_codes
from .extremes_recount import seed_request, seeded_entries
from .recount import BACKFILL_MARKER, GroupTotals, recompute, unstorable_totals
from .stream import (
    EMPTY_PAGES_IN_RANGE,
    STREAMS_CLIENT_CONFIG,
    RangeExpired,
    RangeUnfinished,
    ShardReading,
    ShardSpan,
    lambda_record,
    read_shard,
    sequence_of,
    stream_shards,
    wire_image,
)
from .tables import check_tables, parallel_scan
from .targets import Target, add_ledger_argument, add_target_arguments, resolve_target
from .text import key_text, storable_text

# --------------------------------------------------------------------------------------------------
# `backfill`: add the items that predate the stream to the aggregates, exactly once (ops.backfill).
#
# The whole stream is
# read and every request built before the first write, so an incomplete read or a total DynamoDB
# cannot store exactly stops the run with nothing written rather than halfway. A run stopped between
# writes (an error, Ctrl-C) says how far it got: each key written is marked, so a rerun adds the rest.

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
        read = first_records(streams, stream_arn, target.spec, scan_ended=time.time())
    except KeyboardInterrupt:
        console.print(f"interrupted while reading the table and its stream: {NOTHING_WRITTEN}")
        raise
    first = read.first
    initial = initial_images(target.spec, scanned, first)
    bases, invalid = recompute(target.spec, initial)
    seeded = seeded_entries(target.spec, initial, scanned)
    unstorable = unstorable_totals(bases)
    if unstorable:
        more = f" (and {len(unstorable) - 1} more)" if len(unstorable) > 1 else ""
        raise CommandError(f"{NOTHING_WRITTEN}: {unstorable[0]}{more}")
    stamp = datetime.now(UTC).isoformat()
    requests = [backfill_request(target.spec, target.aggregate_table, base, stamp) for base in bases.values()]
    extremes_table = target.extremes()
    written = done = 0
    refused: list[str] = []
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("backfilling", total=len(requests))
            for token, request in zip(bases, requests, strict=True):
                try:
                    if extremes_table is not None and token in seeded:
                        _seed_entries(dynamodb, target, extremes_table, (token, bases[token]), seeded[token])
                    elif target.spec.single_source and token in seeded:
                        _seed_inline(dynamodb, target, bases[token], seeded[token])
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
    console.print(read.coverage(), soft_wrap=True, highlight=False)
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


def _seed_entries(
    dynamodb: DynamoDBClient,
    target: Target,
    table: str,
    key: tuple[str, GroupTotals],
    entries: list[tuple[str, str, AttributeValue]],
) -> None:
    """The key's min/max entries of its items from before the stream (ops.extremes_recount), written before the
    key's marker: a key already marked is left (the handler owns its entries since), and a run stopped between
    the entries and the marker writes them again, each only where absent.

    Each entry is written only while the item's ledger entry for the key is absent, in one transaction: once
    the handler has applied a record of the item for this key it has written the item's entries itself (every
    applied write carries all of them, handler.fold.written_extremes), so the scanned value could only be
    stale. Checking the entry alone let an item removed or moved after the scan, whose record the handler
    applied first, come back as a stray entry. The ledger entry lives 25 hours after the item's last record,
    longer than backfill's 23-hour window."""
    token, base = key
    if _marked(dynamodb, target, base):
        return
    if target.ledger_table is None:
        raise CommandError(
            "backfill writes an item's min/max entries only while its ledger entry is absent: give --ledger-table "
            "or --stack-outputs from a stack that exports 'ledger_table_name'"
        )
    for measure, item, value in entries:
        seed: Any = seed_request(table, token, measure, item, value)
        untouched: Any = {
            "TableName": target.ledger_table,
            "Key": {LEDGER_KEY: {"S": ledger_id(token, item)}},
            "ConditionExpression": "attribute_not_exists(#l)",
            "ExpressionAttributeNames": {"#l": LEDGER_KEY},
        }
        try:
            dynamodb.transact_write_items(TransactItems=[{"ConditionCheck": untouched}, {"Put": seed}])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException" or not _condition_failed(error):
                raise  # a conflict with the handler's own transaction, or worse: the run stops, and a rerun goes on


def _seed_inline(
    dynamodb: DynamoDBClient, target: Target, base: GroupTotals, entries: list[tuple[str, str, AttributeValue]]
) -> None:
    """A single-source key's min/max from its item as scanned, before the key's marker, and only while the
    handler has written nothing to the key (no stored position): every write of the handler SETs or REMOVEs
    the item's values, so a value it REMOVEd (the item deleted or filtered out after the scan) stays removed."""
    expression = Expression()
    for index, (name, _, value) in enumerate(entries):
        expression.set_if_absent(f"x{index}", name, value)
    expression.names.update({"#b": BACKFILL_MARKER, "#p": INLINE_POSITION})
    condition = "attribute_not_exists(#b) AND attribute_not_exists(#p)"
    request: Any = update_request(
        target.aggregate_table, {target.spec.group_by: base.group_value}, expression, condition
    )
    try:
        dynamodb.update_item(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def _condition_failed(error: ClientError) -> bool:
    """The entry exists, or the handler applied a record of the item: either way the handler's entry stands."""
    reasons = error.response.get("CancellationReasons", [])
    codes = {reason.get("Code") for reason in reasons}
    return "ConditionalCheckFailed" in codes and codes <= {"ConditionalCheckFailed", "None"}


def _marked(dynamodb: DynamoDBClient, target: Target, base: GroupTotals) -> bool:
    found = dynamodb.get_item(
        TableName=target.aggregate_table,
        Key={target.spec.group_by: base.group_value},
        ConsistentRead=True,
        ProjectionExpression="#b",
        ExpressionAttributeNames={"#b": BACKFILL_MARKER},
    )
    return BACKFILL_MARKER in found.get("Item", {})


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


# --------------------------------------------------------------------------------------------------
# `backfill`: the aggregates of the items that existed before the stream was enabled.
#
# A stream only carries changes made after it was enabled, so with the stream alone an aggregate
# equals agg(now) - agg(S0), where S0 is the table at enablement. Backfill adds agg(S0) exactly once.
#
# S0 is not what a scan sees: items change while the scan runs. But every change since enablement is
# in the stream (for 24 h), and the first record of an item carries its state at enablement: the
# OldImage of a MODIFY or REMOVE, nothing for an INSERT. So:
#
# 1. scan the table;
# 2. then read the stream from TRIM_HORIZON, keeping each item's first record: every shard, every
#    page, through empty pages (ops.stream); a read that cannot be complete refuses the run before
#    anything is written, since a missed first record would take the scanned image for the state at
#    enablement and the marker below would lock it in. What must be read is every record made before
#    the scan ended: a change after it left the scanned image as it was. A closed shard is read to its
#    end. An open one has none: it is read until a record made after the scan ended (its creation
#    time past the scan's end by ``CLOCK_MARGIN_SECONDS``), which proves every earlier record of the
#    shard read, and which ends the read of a shard the table's writers never let fall quiet; else
#    through as many empty pages as a closed shard (``awaited``), the only end the API can show.
#    The run then says which of the two each open shard got (``StreamRead.coverage``);
# 3. S0 of an item = its first record's OldImage if the stream has one (None after an INSERT),
#    else the scanned image (it has not changed since enablement: a change would be in the stream,
#    which was read after the scan).
#
# The contributions of S0 are ADDed to each aggregate with the marker ``_wmbackfill``, on condition
# that the marker is absent, so a rerun after a crash only fills the keys not yet done. `latest`
# measures are set only where the stream has not set them yet. It refuses streams enabled more than
# 23 hours ago: by then the stream may have trimmed an item's first record.

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

MAX_STREAM_AGE = timedelta(hours=23)
NOTHING_WRITTEN = "backfill wrote nothing"
SHARD_READERS = 16
"""Shards read at once. A shard's read limits are its own (two readers: the mapping and this one), and a quiet
open shard takes 100 empty pages, 25 s of pauses, before it is taken to end: one at a time, n such shards
took n times that."""
CLOCK_MARGIN_SECONDS = 60
"""How far past the scan's end (this machine's clock) a record's creation time (AWS's, "approximate" and
rounded down to the second) must be to prove an open shard read past the scan: room for the two clocks'
skew. An open shard busy enough never to answer empty pages is read about this much longer."""

ItemKey = tuple[str, ...]


class BackfillError(OpsError):
    """Backfill cannot be exact here; the message says why."""


def item_key(spec: AggregationSpec, image: dict[str, Any]) -> ItemKey:
    names = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    return tuple(key_token(image[name], name) for name in names)


@dataclass
class StreamRead:
    """Each item's earliest record in the stream, and how far each shard was read."""

    scan_ended: float
    first: dict[ItemKey, dict[str, Any]] = field(default_factory=dict)
    records: int = 0
    closed: int = 0
    """Closed shards, read to their end."""
    passed: int = 0
    """Open shards read to a record made after the scan ended: every earlier record of theirs was read."""
    current_end: list[str] = field(default_factory=list)
    """Open shards that answered ``EMPTY_PAGES_IN_RANGE`` empty pages in a row before such a record: taken
    to end there."""

    def coverage(self) -> str:
        """What the read covered, for the operator: which shards are known to be read past the scan."""
        ended = datetime.fromtimestamp(self.scan_ended, UTC).isoformat(timespec="seconds")
        text = (
            f"read {self.records} stream record(s): {self.closed} closed shard(s) to their end, {self.passed} open "
            f"shard(s) past the scan's end ({ended})"
        )
        if not self.current_end:
            return text
        shown = ", ".join(self.current_end[:3]) + (
            f" (and {len(self.current_end) - 3} more)" if len(self.current_end) > 3 else ""
        )
        return (
            f"{text}, {len(self.current_end)} open shard(s) to their current end ({EMPTY_PAGES_IN_RANGE} empty pages "
            f"in a row, no record made since the scan): {shown}. A change made before the scan ended that DynamoDB "
            "had not yet made readable there would be missed, its item taken as scanned: `reconcile` shows such a "
            "drift"
        )


def first_records(
    stream_client: DynamoDBStreamsClient, stream_arn: str, spec: AggregationSpec, scan_ended: float
) -> StreamRead:
    """Each item's earliest record in the stream: every shard, from TRIM_HORIZON to its end or past the scan.

    Raises
    ------
    BackfillError
        When the stream is too old or not ENABLED, or a shard could not be read to its end (trimmed,
        gone, an AWS error, or a closed shard that answered only empty pages before its end): a
        missed first record would make backfill take the scanned image for the state at enablement,
        and its marker would keep a rerun from correcting it.
    """
    try:
        listing = stream_shards(stream_client, stream_arn)
    except RangeUnfinished as short:
        raise BackfillError(f"{NOTHING_WRITTEN}: {short}. Run backfill again.") from None
    if listing.status not in (None, "ENABLED"):
        raise BackfillError(
            f"{NOTHING_WRITTEN}: the stream is {listing.status}, not ENABLED: a change it did not record would read as "
            "the item's state at enablement. Run backfill once the stream is ENABLED (a disabled one stays incomplete: "
            "enable a new stream, then backfill within 23 hours)."
        )
    created = listing.created
    if created is not None and datetime.now(UTC) - created > MAX_STREAM_AGE:
        raise BackfillError(
            f"{NOTHING_WRITTEN}: the stream was enabled at {created.isoformat()}, more than {MAX_STREAM_AGE} ago: it "
            "may have trimmed records, so the table's state at enablement is lost. Reconcile instead (quiesce writers "
            "first)."
        )
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, min(SHARD_READERS, len(listing.shards)))) as pool:
        futures = [pool.submit(_read_shard, stream_client, shard, spec, scan_ended, stop) for shard in listing.shards]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((future.exception() for future in futures if future.done() and future.exception()), None)
            if failed is not None:
                raise failed
        except BaseException:
            stop.set()  # the other shards' reads end at their next page or pause
            raise
    return _merged(scan_ended, [future.result() for future in futures])


class _Stopped(Exception):
    """Another shard's read failed, or the run was interrupted: this one ends without a result."""


class ShardEnd(StrEnum):
    """Where a shard's read ended."""

    CLOSED = "closed"
    """GetRecords ended it: a closed shard's end (or a shard open when listed that closed meanwhile)."""
    PASSED = "passed"
    """An open shard's record made after the scan ended was read: every earlier record of it was."""
    CURRENT = "current"
    """An open shard answered ``EMPTY_PAGES_IN_RANGE`` empty pages in a row first: taken to end there."""


@dataclass
class ShardRead:
    """One shard's part of a ``StreamRead``."""

    shard_id: str
    first: dict[ItemKey, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    records: int = 0
    end: ShardEnd = ShardEnd.CLOSED


def _read_shard(
    client: DynamoDBStreamsClient, shard: ShardSpan, spec: AggregationSpec, scan_ended: float, stop: threading.Event
) -> ShardRead:
    """One shard's items' first records; BackfillError when its read cannot be complete."""
    result = ShardRead(shard.shard_id)
    try:
        for record in _shard_records(client, shard, scan_ended, stop, result):
            result.records += 1
            key = item_key(spec, record["dynamodb"]["Keys"])
            sequence = sequence_of(record)
            if key not in result.first or sequence < result.first[key][0]:
                result.first[key] = (sequence, record)
    except (ClientError, BotoCoreError) as error:
        raise BackfillError(f"{NOTHING_WRITTEN}: reading shard {shard.shard_id}: {describe_error(error)}") from None
    return result


def _merged(scan_ended: float, shards: list[ShardRead]) -> StreamRead:
    """The shards' reads as one, in the listing's order: each item's earliest record across them."""
    read = StreamRead(scan_ended)
    first: dict[ItemKey, tuple[int, dict[str, Any]]] = {}
    for shard in shards:
        read.records += shard.records
        if shard.end is ShardEnd.CLOSED:
            read.closed += 1
        elif shard.end is ShardEnd.PASSED:
            read.passed += 1
        else:
            read.current_end.append(shard.shard_id)
        for key, (sequence, record) in shard.first.items():
            if key not in first or sequence < first[key][0]:
                first[key] = (sequence, record)
    read.first = {key: record for key, (_, record) in first.items()}
    return read


def _shard_records(
    client: DynamoDBStreamsClient, shard: ShardSpan, scan_ended: float, stop: threading.Event, result: ShardRead
) -> Iterator[dict[str, Any]]:
    """Every record of one shard (an open one: to past the scan, or its current end); a read that cannot be
    complete raises BackfillError. ``result.end`` is told which end the read reached."""

    def pause(seconds: float) -> None:
        if stop.wait(seconds):
            raise _Stopped

    reading = ShardReading()
    bound = scan_ended + CLOCK_MARGIN_SECONDS
    try:
        for records in read_shard(client, replace(shard, awaited=not shard.closed), reading, pause):
            if stop.is_set():
                raise _Stopped
            converted = [lambda_record(record, shard.stream_arn, "") for record in records]
            yield from converted
            created = creation_seconds(converted[-1]["dynamodb"].get("ApproximateCreationDateTime"))
            if not shard.closed and created is not None and created > bound:
                result.end = (
                    ShardEnd.PASSED
                )  # the records of a shard are in order: every one made before the scan was read
                return
    except RangeExpired as gone:
        raise BackfillError(
            f"{NOTHING_WRITTEN}: shard {shard.shard_id} cannot be read from its start ({gone}): the records since "
            "enablement are not all there, so the table's state at enablement is lost. Reconcile instead (quiesce "
            "writers first)."
        ) from None
    if reading.stalled and shard.closed:  # an open shard answers empty pages at its current end
        raise BackfillError(
            f"{NOTHING_WRITTEN}: closed shard {shard.shard_id} answered {reading.empty} empty pages in a row before "
            "its end (DynamoDB says reaching records can take several calls): the read is incomplete. Run backfill "
            "again."
        )
    result.end = ShardEnd.CURRENT if reading.stalled else ShardEnd.CLOSED


def initial_images(
    spec: AggregationSpec, scanned: Iterable[dict[str, Any]], first: dict[ItemKey, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The items as they were when the stream was enabled (see the module docstring).

    Raises
    ------
    BackfillError
        When an item's first record is a MODIFY or REMOVE without its OldImage (a stream that is not
        NEW_AND_OLD_IMAGES): the item's state at enablement is then unknown, and leaving it out would
        silently drop it from the totals.
    """
    images = [item for item in scanned if item_key(spec, item) not in first]
    for record in first.values():
        body, event = record["dynamodb"], record.get("eventName")
        carried = IMAGES_CARRIED[EventName(event)] if event in set(EventName) else None
        if carried is None or (carried[0] and "OldImage" not in body):
            what = f"a {event} without OldImage" if carried else f"of unknown eventName {event!r}"
            raise BackfillError(
                f"{NOTHING_WRITTEN}: the first stream record of {key_text(body.get('Keys', {}))} is {what}: backfill "
                "reads an item's state at enablement from it, so the stream must be NEW_AND_OLD_IMAGES"
            )
        if carried[0]:
            images.append(body["OldImage"])
    return images


def backfill_request(
    spec: AggregationSpec,
    table: str,
    base: GroupTotals,
    stamp: str,
) -> UpdateTypeDef:
    """ADD the base's measures and mark the key, only if not marked yet; ``latest`` and a single-source min/max
    only where unset (a single-source min/max: ``_seed_inline``, before this)."""
    expression = Expression()
    expression.set("b", BACKFILL_MARKER, {"S": stamp})
    for index, (name, number) in enumerate(base.numbers.items()):
        expression.add(f"n{index}", name, {"N": storable_text(number, name)})
    for index, (name, value) in enumerate(base.latest.items()):
        expression.set_if_absent(f"l{index}", name, value)
    for index, (name, value) in enumerate(key_attributes(spec, base.group_value).items()):
        expression.set_if_absent(f"p{index}", name, value)
    return update_request(table, {spec.group_by: base.group_value}, expression, "attribute_not_exists(#b)")


BACKFILL_EXITS = exit_codes(
    "backfilled, or nothing left to do",
    "an error told in one line (nothing written when the stream cannot be read to its end or a total cannot be "
    "stored; else it says how far it got, run again, or which keys DynamoDB refused, the others done)",
    stopped="; it says how far it got: run again",
)


def add_parser(subparsers: Any) -> None:
    backfill = subparsers.add_parser(
        "backfill",
        help="add the items that predate the stream, exactly once",
        epilog=BACKFILL_EXITS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(backfill)
    add_ledger_argument(backfill.add_argument_group("ledger (default: from the stack outputs, else the emulator's)"))
    backfill.set_defaults(run=main)


def main(args: argparse.Namespace, console: Console) -> int:
    run_backfill(resolve_target(args), console)
    return EXIT_OK
