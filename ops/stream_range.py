"""Reading one batch's records back out of a DynamoDB stream, page by page.

DynamoDB documents how a range that is gone shows: GetShardIterator or GetRecords raise
``TrimmedDataAccessException`` for records past the 24-hour retention, and a shard (or stream)
that no longer exists gives ``ResourceNotFoundException``. Both mean "expired". An iterator is
good for 15 minutes (``ExpiredIteratorException``): a fresh one is taken after the last record
read. A closed shard ends with no ``NextShardIterator``; an open one answers empty pages once it
has nothing more, so a few empty pages in a row end the read too.

Empty pages do not always mean the end: DynamoDB documents that "it might take multiple calls to
get to a portion of the shard that contains stream records" (GetRecords, API reference). Once the
range's first record was read, its last one exists too (it reached Lambda, and a shard is trimmed
from its oldest record on), so the read goes on through many more empty pages, and an open shard
that still stops short is "unfinished" (read it again), never "expired".

Replay is a second reader of the shard beside the event source mapping; DynamoDB asks for no more
than two at once, so it reads one shard at a time and pauses on empty pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from .errors import OpsError
from .replay_plan import BatchRange, in_range, range_gap, sequence_of
from .stream_events import lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.literals import ShardIteratorTypeType
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef

EXPIRED_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})
PAGE_LIMIT = 1000
"""GetRecords' largest page."""
EMPTY_PAGES = 5
"""Empty pages in a row after which an open shard is taken to hold none of the range."""
EMPTY_PAGES_IN_RANGE = 100
"""Empty pages in a row read through once the range began, before giving up on this run."""
EMPTY_PAGE_PAUSE_SECONDS = 0.25


class RangeExpired(OpsError):
    """The stream no longer holds (all of) the range; the message says what is missing and why."""


class RangeUnfinished(OpsError):
    """An open shard answered only empty pages before the range's last record, which it does hold."""


@dataclass
class ShardReading:
    """Where a read has got to: the first and last sequence numbers the shard returned."""

    first_seen: int | None = None
    last_seen: int | None = None


def read_range(
    client: DynamoDBStreamsClient,
    batch: BatchRange,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[Mapping[str, Any]]]:
    """The batch's records in stream order, as Lambda delivers them, a page at a time.

    Raises
    ------
    RangeExpired
        When DynamoDB says the records were trimmed or the shard is gone, or the shard ran out
        before the range's last record (after yielding what it did hold).
    RangeUnfinished
        When an open shard that held the range's first record answered only empty pages before
        its last one (after yielding what it read).
    """
    reading = ShardReading()
    iterator: str | None = _iterator(client, batch, None)
    empty = 0
    while iterator:
        try:
            page = client.get_records(ShardIterator=iterator, Limit=PAGE_LIMIT)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ExpiredIteratorException":
                iterator = _iterator(client, batch, reading.last_seen)
                continue
            _raise_if_expired(error, batch)
            raise
        iterator = page.get("NextShardIterator")
        records = page.get("Records", [])
        if not records:
            empty += 1
            if empty >= (EMPTY_PAGES if reading.first_seen is None else EMPTY_PAGES_IN_RANGE):
                break
            sleep(EMPTY_PAGE_PAUSE_SECONDS)
            continue
        empty = 0
        if reading.first_seen is None:
            reading.first_seen = sequence_of(records[0])
        reading.last_seen = sequence_of(records[-1])
        wanted = in_range(batch, records)
        if wanted:
            yield [lambda_record(cast("RecordTypeDef", record), batch.stream_arn, batch.region) for record in wanted]
        if reading.last_seen >= batch.end:
            break
    gap = range_gap(batch, reading.first_seen, reading.last_seen)
    if gap and iterator and reading.first_seen == batch.start:
        raise RangeUnfinished(
            f"the open shard answered {empty} empty pages in a row after {reading.last_seen}, before the range's "
            f"last record {batch.end}"
        )
    if gap:
        raise RangeExpired(gap)


def _iterator(client: DynamoDBStreamsClient, batch: BatchRange, after: int | None) -> str | None:
    """An iterator AT the range's first record, or AFTER the last one read when resuming."""
    kind: ShardIteratorTypeType = "AT_SEQUENCE_NUMBER" if after is None else "AFTER_SEQUENCE_NUMBER"
    sequence = str(batch.start if after is None else after)
    try:
        response = client.get_shard_iterator(
            StreamArn=batch.stream_arn, ShardId=batch.shard_id, ShardIteratorType=kind, SequenceNumber=sequence
        )
    except ClientError as error:
        _raise_if_expired(error, batch)
        raise
    iterator = response.get("ShardIterator")
    return iterator if isinstance(iterator, str) else None


def _raise_if_expired(error: ClientError, batch: BatchRange) -> None:
    code = error.response["Error"]["Code"]
    if code in EXPIRED_CODES:
        message = error.response["Error"].get("Message", "")
        raise RangeExpired(f"{code}: {message}".strip().rstrip(":")) from None
