"""Reading a DynamoDB stream: the one shard reader of replay and backfill, and its records turned
into the records Lambda delivers.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import ClientError

from .errors import OpsError

# --------------------------------------------------------------------------------------------------
# The one reader of a DynamoDB stream, for replay and backfill: every shard, every page.
#
# What DynamoDB documents (API reference, DynamoDB Streams), and what each rule here answers:
#
# - DescribeStream returns at most 100 shards; ``LastEvaluatedShardId`` is set when it stopped
#   early, and "the only way to know when you have reached the end of the result set is when
#   LastEvaluatedShardId is empty". So the shards are listed page after page, passing it back as
#   ``ExclusiveStartShardId``: a stream with 150 shards has its last 50 on the second page.
# - A shard whose ``SequenceNumberRange`` has an ``EndingSequenceNumber`` is closed: it ends, and
#   GetRecords says so by leaving ``NextShardIterator`` out. An open shard has no end yet: at its
#   current end it answers empty pages, each with a next iterator.
# - GetRecords: "If there are no stream records available in the portion of the shard that the
#   iterator points to, GetRecords returns an empty list. Note that it might take multiple calls to
#   get to a portion of the shard that contains stream records." So an empty page never ends a read
#   by itself. Where a record is known to lie ahead (a closed shard's end, a range whose first record
#   was read) up to ``EMPTY_PAGES_IN_RANGE`` empty pages in a row are read through, and a read that
#   still stops short is *stalled*: the caller refuses to treat it as complete. Where nothing is
#   known to lie ahead (an open shard), ``EMPTY_PAGES`` in a row are taken as its current end: the
#   API has no other way to tell the end of an open shard. A caller for whom stopping short of a
#   record would be a wrong total, not a rerun (backfill), marks an open shard ``awaited``: it is
#   read through as many empty pages as a closed one, and a read that stops on them is *stalled*,
#   which the caller then reports as the end it took.
# - ``TrimmedDataAccessException`` (records past the 24-hour retention) and
#   ``ResourceNotFoundException`` (a shard or stream that is gone) mean the records are lost to
#   this read: ``RangeExpired``. An iterator lasts 15 minutes (``ExpiredIteratorException``): a new
#   one is taken after the last record read.
#
# The stream's shards allow two readers at once and the mapping is one, so a read pauses on every
# empty page (``EMPTY_PAGE_PAUSE_SECONDS``) and a caller never has two reads of one shard at once
# (backfill reads several shards at once, each by one read).

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.type_defs import GetShardIteratorInputTypeDef, RecordTypeDef

EXPIRED_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})
PAGE_LIMIT = 1000
"""GetRecords' largest page."""
EMPTY_PAGES = 5
"""Empty pages in a row after which a shard with no record known to lie ahead is taken to hold no more."""
EMPTY_PAGES_IN_RANGE = 100
"""Empty pages in a row read through when a record is known to lie ahead, before the read is stalled."""
EMPTY_PAGE_PAUSE_SECONDS = 0.25
ITERATOR_RENEWALS = 3
"""Iterators taken again in a row, each expiring before it returned a page, before the error is raised."""
STREAMS_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
"""For the client a reader is given: LimitExceededException (a third reader of the shard) is a throttling
error that the standard retry mode retries."""


class RangeExpired(OpsError):
    """The stream no longer holds (all of) what was to be read; the message says what is missing and why."""


class RangeUnfinished(OpsError):
    """A shard answered only empty pages before records it does hold; reading again may reach them."""


@dataclass(frozen=True)
class ShardSpan:
    """What to read of one shard."""

    stream_arn: str
    shard_id: str
    start: int | None = None
    """Read from this sequence number (AT_SEQUENCE_NUMBER); None: from the oldest record (TRIM_HORIZON)."""
    end: int | None = None
    """Stop once a record at or past it was read; None: read as far as the shard goes."""
    closed: bool = False
    """DescribeStream gave the shard an EndingSequenceNumber: its end lies ahead until GetRecords says so."""
    awaited: bool = False
    """A record may lie past empty pages of this open shard, and missing it would be a wrong total: read through
    ``EMPTY_PAGES_IN_RANGE`` of them, as for a closed shard, before taking its current end."""


@dataclass
class ShardReading:
    """Where a read has got to; the caller owns it and reads it once the pages are consumed."""

    first_seen: int | None = None
    last_seen: int | None = None
    empty: int = 0
    """Empty pages in a row at the point the read stopped."""
    stalled: bool = False
    """The read gave up on empty pages while the shard still had a next iterator."""


@dataclass(frozen=True)
class StreamShards:
    """Every shard of a stream, from every DescribeStream page."""

    created: datetime | None
    """When the stream was enabled (CreationRequestDateTime), when DynamoDB says."""
    status: str | None
    """StreamStatus: ENABLING, ENABLED, DISABLING or DISABLED, when DynamoDB says."""
    shards: list[ShardSpan]


def stream_shards(client: DynamoDBStreamsClient, stream_arn: str) -> StreamShards:
    """The stream's shards, listed page by page until ``LastEvaluatedShardId`` is absent."""
    created: datetime | None = None
    status: str | None = None
    shards: dict[str, ShardSpan] = {}
    after: str | None = None
    pages: set[str] = set()
    while True:
        description = (
            client.describe_stream(StreamArn=stream_arn, ExclusiveStartShardId=after)
            if after
            else client.describe_stream(StreamArn=stream_arn)
        )["StreamDescription"]
        stamp = description.get("CreationRequestDateTime")
        created = created or (stamp if isinstance(stamp, datetime) else None)
        status = status or description.get("StreamStatus")
        for shard in description.get("Shards", []):
            closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
            shards.setdefault(shard["ShardId"], ShardSpan(stream_arn, shard["ShardId"], closed=closed))
        following = description.get("LastEvaluatedShardId")
        if not following:
            return StreamShards(created, status, list(shards.values()))
        if following in pages:
            raise RangeUnfinished(f"DescribeStream gave LastEvaluatedShardId {following} again: its shard list loops")
        pages.add(following)
        after = following


def read_shard(
    client: DynamoDBStreamsClient,
    span: ShardSpan,
    reading: ShardReading,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[RecordTypeDef]]:
    """The shard's records in stream order, a page at a time, through empty pages; ``reading`` says how it ended.

    Raises
    ------
    RangeExpired
        When DynamoDB says the records were trimmed or the shard is gone (after yielding what was read).
    """
    iterator: str | None = _iterator(client, span, None)
    renewed = 0
    while iterator:
        try:
            page = client.get_records(ShardIterator=iterator, Limit=PAGE_LIMIT)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExpiredIteratorException" and renewed < ITERATOR_RENEWALS:
                iterator = _iterator(client, span, reading.last_seen)
                reading.empty = 0  # the new iterator walks those empty pages again
                renewed += 1
                continue
            _raise_if_expired(error)
            raise
        renewed = 0
        iterator = page.get("NextShardIterator")
        records = page.get("Records", [])
        if not records:
            reading.empty += 1
            if not iterator:  # a closed shard, read to its end
                return
            if reading.empty >= _empty_limit(span, reading):
                reading.stalled = True
                return
            sleep(EMPTY_PAGE_PAUSE_SECONDS)
            continue
        reading.empty = 0
        if reading.first_seen is None:
            reading.first_seen = sequence_of(records[0])
        reading.last_seen = sequence_of(records[-1])
        yield records
        if span.end is not None and reading.last_seen >= span.end:
            return


def _empty_limit(span: ShardSpan, reading: ShardReading) -> int:
    """How many empty pages in a row to read through: many where a record is known to lie ahead."""
    ahead = span.closed or span.awaited or (span.end is not None and reading.first_seen is not None)
    return EMPTY_PAGES_IN_RANGE if ahead else EMPTY_PAGES


def _iterator(client: DynamoDBStreamsClient, span: ShardSpan, after: int | None) -> str | None:
    """An iterator AFTER the last record read when resuming, else AT the span's start, else at TRIM_HORIZON."""
    request: GetShardIteratorInputTypeDef = {
        "StreamArn": span.stream_arn,
        "ShardId": span.shard_id,
        "ShardIteratorType": "TRIM_HORIZON",
    }
    if after is not None:
        request["ShardIteratorType"], request["SequenceNumber"] = "AFTER_SEQUENCE_NUMBER", str(after)
    elif span.start is not None:
        request["ShardIteratorType"], request["SequenceNumber"] = "AT_SEQUENCE_NUMBER", str(span.start)
    try:
        response = client.get_shard_iterator(**request)
    except ClientError as error:
        _raise_if_expired(error)
        raise
    iterator = response.get("ShardIterator")
    return iterator if isinstance(iterator, str) else None


def _raise_if_expired(error: ClientError) -> None:
    code = error.response["Error"]["Code"]
    if code in EXPIRED_CODES:
        message = error.response["Error"].get("Message", "")
        raise RangeExpired(f"{code}: {message}".strip().rstrip(":")) from None


# --------------------------------------------------------------------------------------------------
# Turning GetRecords output into the records Lambda delivers: pure.
#
# boto3 decodes binary attributes to bytes and creation times to datetimes; the Lambda event
# carries base64 text and epoch seconds, plus the stream ARN and region on every record.

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef


def lambda_record(record: RecordTypeDef, stream_arn: str, region: str) -> dict[str, Any]:
    body: dict[str, Any] = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    for image in ("Keys", "NewImage", "OldImage"):
        if image in body:
            body[image] = wire_image(body[image])
    converted = {
        "eventID": record.get("eventID", ""),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:
        converted["userIdentity"] = record["userIdentity"]
    return converted


def sequence_of(record: Mapping[str, Any]) -> int:
    """A record's sequence number as an integer: they are decimal strings, and only their numeric order means
    anything."""
    return int(record["dynamodb"]["SequenceNumber"])


def wire_image(image: dict[str, Any]) -> dict[str, Any]:
    """An item as boto3 returns it (bytes for binary) in the event's wire format (base64 text)."""
    return {name: _wire_value(value) for name, value in image.items()}


def _wire_value(value: dict[str, Any]) -> dict[str, Any]:
    kind, raw = next(iter(value.items()))
    if kind == "B":
        return {"B": _b64(raw)}
    if kind == "BS":
        return {"BS": [_b64(item) for item in raw]}
    if kind == "M":
        return {"M": {name: _wire_value(item) for name, item in raw.items()}}
    if kind == "L":
        return {"L": [_wire_value(item) for item in raw]}
    return {kind: raw}


def _b64(raw: bytes | str) -> str:
    return raw if isinstance(raw, str) else base64.b64encode(raw).decode()
