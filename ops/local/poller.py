"""A local event source mapping: reads a DynamoDB stream and invokes a handler the way Lambda does.

It is how the demo runs the real handler without Lambda, and how the integration tests put the
handler through everything Lambda's mapping does to a stream consumer:

- batches of up to ``batch_size`` records per shard, in order, after a batching window;
- a function error retries the batch, bisecting it first when ``bisect_on_error`` is set;
- a partial batch response moves the checkpoint to the lowest reported record and retries from it
  (an identifier that is not in the batch fails the whole batch, as Lambda does);
- after ``max_retry_attempts`` retries, or once records are older than ``max_record_age_seconds``,
  the batch's description goes to the on-failure destination and the shard moves on;
- with ``duplicate_rate`` above 0, some batches are delivered twice (at-least-once delivery).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ..stream import lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]
"""Where a new shard is read from: Lambda's two positions that need no timestamp."""
Handler = Callable[[dict[str, Any], Any], Any]
FailureDestination = Callable[[dict[str, Any]], object]
"""Called with what Lambda would send to the on-failure destination; what it returns is ignored."""


@dataclass(frozen=True)
class MappingSettings:
    batch_size: int = 100
    batching_window_seconds: float = 0.0
    bisect_on_error: bool = True
    max_retry_attempts: int = 3
    """-1 retries until the records expire, as Lambda's -1 does."""
    max_record_age_seconds: int = -1
    starting_position: StartingPosition = "TRIM_HORIZON"
    duplicate_rate: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class LocalContext:
    """The part of Lambda's context object the handler reads."""

    aws_request_id: str


@dataclass
class PollerStats:
    invocations: int = 0
    records_delivered: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    duplicate_deliveries: int = 0
    batches_to_failure_destination: int = 0
    records_to_failure_destination: int = 0
    newest_created_at: float | None = None
    """Creation time of the newest record delivered: now minus this is the stream lag."""


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    first_buffered_at: float | None = None
    retries: dict[str, int] = field(default_factory=dict)


class StreamPoller:
    def __init__(
        self,
        streams_client: DynamoDBStreamsClient,
        stream_arn: str,
        handler: Handler,
        settings: MappingSettings | None = None,
        on_failure: FailureDestination | None = None,
        region: str = "us-east-1",
    ):
        self._client = streams_client
        self._stream_arn = stream_arn
        self._handler = handler
        self.settings = settings or MappingSettings()
        self._on_failure = on_failure
        self._region = region
        self._random = random.Random(self.settings.seed)
        self._shards: dict[str, _Shard] = {}
        self.stats = PollerStats()

    def poll_once(self, flush: bool = True) -> int:
        """Read what the stream has and deliver every batch that is due; returns records finished.

        ``flush`` delivers partial batches without waiting for the batching window (the tests and
        the demo's final drain want that; the live loop does not).
        """
        self._discover_shards()
        finished = 0
        for shard in self._shards.values():
            self._read(shard)
            while shard.buffer and (flush or self._due(shard)):
                done = self._deliver(shard, shard.buffer[: self.settings.batch_size])
                del shard.buffer[:done]
                finished += done
            shard.first_buffered_at = time.monotonic() if shard.buffer else None
        return finished

    def drain(self, idle_polls: int = 2, max_polls: int = 1000) -> PollerStats:
        """Poll until the stream has had nothing new for ``idle_polls`` polls in a row."""
        idle = 0
        for _ in range(max_polls):
            idle = idle + 1 if self.poll_once() == 0 else 0
            if idle >= idle_polls:
                break
        return self.stats

    def _discover_shards(self) -> None:
        description = self._client.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._shards:
                continue
            iterator = self._client.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType=self.settings.starting_position
            )["ShardIterator"]
            self._shards[shard_id] = _Shard(shard_id=shard_id, iterator=iterator)

    def _read(self, shard: _Shard) -> None:
        if shard.iterator is None:
            return
        response = self._client.get_records(ShardIterator=shard.iterator)
        shard.iterator = response.get("NextShardIterator")
        records = [lambda_record(r, self._stream_arn, self._region) for r in response.get("Records", [])]
        if records and not shard.buffer:
            shard.first_buffered_at = time.monotonic()
        shard.buffer.extend(records)

    def _due(self, shard: _Shard) -> bool:
        if len(shard.buffer) >= self.settings.batch_size or shard.first_buffered_at is None:
            return True
        return time.monotonic() - shard.first_buffered_at >= self.settings.batching_window_seconds

    def _deliver(self, shard: _Shard, batch: list[dict[str, Any]]) -> int:
        """Invoke for ``batch``; returns how many records at its front are finished."""
        response, failed = self._invoke(batch)
        if failed is None:
            failed_at = _first_failure(batch, response)
            if failed_at is None:
                shard.retries.pop(_sequence(batch[0]), None)
                return len(batch)
            self.stats.partial_failures += 1
            if failed_at > 0:
                return failed_at
        elif self.settings.bisect_on_error and len(batch) > 1:
            half = len(batch) // 2
            done = self._deliver(shard, batch[:half])
            return done if done < half else half + self._deliver(shard, batch[half:])
        return self._retry_or_give_up(shard, batch)

    def _retry_or_give_up(self, shard: _Shard, batch: list[dict[str, Any]]) -> int:
        key = _sequence(batch[0])
        shard.retries[key] = shard.retries.get(key, 0) + 1
        limit = self.settings.max_retry_attempts
        if (limit >= 0 and shard.retries[key] > limit) or self._too_old(batch):
            shard.retries.pop(key, None)
            self._send_to_failure_destination(shard, batch)
            return len(batch)
        return 0

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[Any, Exception | None]:
        event = {"Records": batch}
        if self.settings.duplicate_rate and self._random.random() < self.settings.duplicate_rate:
            self.stats.duplicate_deliveries += 1
            self._call(event)
        return self._call(event)

    def _call(self, event: dict[str, Any]) -> tuple[Any, Exception | None]:
        self.stats.invocations += 1
        self.stats.records_delivered += len(event["Records"])
        created = event["Records"][-1]["dynamodb"].get("ApproximateCreationDateTime") if event["Records"] else None
        if isinstance(created, int | float):
            self.stats.newest_created_at = max(created, self.stats.newest_created_at or created)
        try:
            return self._handler(event, LocalContext(aws_request_id=str(uuid.uuid4()))), None
        except Exception as error:  # a function error, as Lambda sees it
            self.stats.function_errors += 1
            return None, error

    def _too_old(self, batch: list[dict[str, Any]]) -> bool:
        limit = self.settings.max_record_age_seconds
        created = batch[0]["dynamodb"].get("ApproximateCreationDateTime")
        return limit >= 0 and isinstance(created, int | float) and time.time() - created > limit

    def _send_to_failure_destination(self, shard: _Shard, batch: list[dict[str, Any]]) -> None:
        self.stats.batches_to_failure_destination += 1
        self.stats.records_to_failure_destination += len(batch)
        if self._on_failure:
            self._on_failure(failure_payload(self._stream_arn, shard.shard_id, batch))


def failure_payload(stream_arn: str, shard_id: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    """What Lambda sends to an on-failure destination: where the records are, not the records."""
    return {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": _sequence(batch[0]),
            "endSequenceNumber": _sequence(batch[-1]),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _first_failure(batch: list[dict[str, Any]], response: Any) -> int | None:
    """Index of the lowest reported failure; 0 for a malformed response (Lambda fails it all)."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return None
    positions = {_sequence(record): index for index, record in enumerate(batch)}
    indexes = []
    for failure in response["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0
        indexes.append(positions[identifier])
    return min(indexes)
