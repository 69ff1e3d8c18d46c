"""Reading one batch's records back out of a DynamoDB stream, with the one shard reader (ops.shard_reader).

The read starts AT the range's first record and stops at the first record at or past its last.
Trimmed records or a shard that is gone make the range "expired"; a closed shard that ends short of
the range, or an open one that answers a few empty pages in a row before the range began, too.
Empty pages do not always mean the end: once the range's first record was read, its last one
exists too (it reached Lambda, and a shard is trimmed from its oldest record on), so the reader
reads through many more empty pages, and an open shard that still stops short is "unfinished"
(read it again), never "expired".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from .replay_plan import BatchRange, in_range, range_gap
from .shard_reader import RangeExpired, RangeUnfinished, ShardReading, ShardSpan, read_shard
from .stream_events import lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef

__all__ = ["RangeExpired", "RangeUnfinished", "read_range"]


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
    span = ShardSpan(batch.stream_arn, batch.shard_id, start=batch.start, end=batch.end)
    for records in read_shard(client, span, reading, sleep):
        wanted = in_range(batch, records)
        if wanted:
            yield [lambda_record(cast("RecordTypeDef", record), batch.stream_arn, batch.region) for record in wanted]
    gap = range_gap(batch, reading.first_seen, reading.last_seen)
    if gap and reading.stalled and reading.first_seen == batch.start:
        raise RangeUnfinished(
            f"the open shard answered {reading.empty} empty pages in a row after {reading.last_seen}, before the "
            f"range's last record {batch.end}"
        )
    if gap:
        raise RangeExpired(gap)
