"""`replay`'s decisions, apart from the queue and the stream: pure.

Lambda's on-failure destination gets a description of the batch it gave up on, not the records:
``DDBStreamBatchInfo`` names the stream, the shard and the first and last sequence numbers. Replay
reads that range back from the stream and applies it through the engine. This module reads the
description, keeps a page's records that fall in the range, says whether the read covered the
range, and names each message's outcome.

Sequence numbers are compared as integers (they are decimal strings of 21 to 40 digits, and only
their numeric order means anything).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ._lambda_code import STREAM_MARKER, Covered, Disposition, is_sequence_number, position_text, stream_label
from .errors import UnreadableMessage
from .stream import sequence_of

BATCH_INFO = "DDBStreamBatchInfo"
SHARD_ID_LENGTH = range(28, 66)
"""DynamoDB Streams' ShardId is 28 to 65 characters (API reference, Shard): the SDK refuses others."""
MIN_SEQUENCE_DIGITS = 21
"""Sequence numbers have 21 to 40 digits (API reference, StreamRecord): the SDK refuses others."""


class MessageError(UnreadableMessage):
    """A failure-queue message that does not describe a DynamoDB stream batch; the text says why."""


@dataclass(frozen=True)
class BatchRange:
    """Where the records of a batch Lambda gave up on are: one shard, first to last sequence number."""

    stream_arn: str
    shard_id: str
    start: int
    end: int
    batch_size: int | None = None

    @property
    def identity(self) -> tuple[str, str, int, int]:
        """Two messages with one identity describe the same records (a destination may deliver twice)."""
        return (self.stream_arn, self.shard_id, self.start, self.end)

    @property
    def region(self) -> str:
        parts = self.stream_arn.split(":")
        return parts[3] if len(parts) > 3 else ""

    def holds(self, sequence: int) -> bool:
        return self.start <= sequence <= self.end


class Outcome(StrEnum):
    APPLIED = "applied"
    SKIPPED = "skipped: already applied"
    QUARANTINED = "applied, some quarantined"
    EXPIRED = "expired"
    OVERTAKEN = "needs reconcile"
    FAILED = "failed"
    UNFINISHED = "incomplete read"
    NOT_ATTEMPTED = "not attempted"
    UNREADABLE = "unreadable"
    WOULD_REPLAY = "would replay"

    @property
    def settled(self) -> bool:
        """A settled message is deleted: every record of its range was applied or quarantined."""
        return self in (Outcome.APPLIED, Outcome.SKIPPED, Outcome.QUARANTINED)


@dataclass
class MessageReport:
    """What replaying one described batch did."""

    batch: BatchRange | None
    dispositions: Counter[Disposition] = field(default_factory=Counter)
    records_read: int = 0
    problem: str | None = None
    """Why the range could not be replayed (expired, unreadable) or which records failed."""
    expired: bool = False
    unfinished: bool = False
    """The shard held the range but answered only empty pages before its end: read it again."""
    failed_keys: list[str] = field(default_factory=list)
    overtaken: set[str] = field(default_factory=set)
    """Aggregate keys where a later record of an item in the range was applied before the range."""
    named_before: frozenset[str] | None = None
    """The keys an earlier run named for this range (``named_keys``), when the message carries them."""
    dry_run: bool = False
    attempted: bool = True
    deleted: bool = False
    """Its messages were deleted from the failure queue (settled, or dropped by ``--drop-unreplayable``)."""
    unmarked: str | None = None
    """Why the keys named could not be written into the kept message (a rerun may then name more)."""

    @property
    def outcome(self) -> Outcome:
        if self.batch is None:
            return Outcome.UNREADABLE
        if not self.attempted:
            return Outcome.NOT_ATTEMPTED
        if self.dispositions[Disposition.FAILED]:
            return Outcome.FAILED
        if self.unfinished:
            return Outcome.UNFINISHED
        if self.expired:
            return Outcome.EXPIRED
        if self.problem:
            return Outcome.UNREADABLE
        if self.overtaken:
            return Outcome.OVERTAKEN
        if self.dry_run:
            return Outcome.WOULD_REPLAY
        if self.dispositions[Disposition.QUARANTINED]:
            return Outcome.QUARANTINED
        if self.dispositions[Disposition.APPLIED]:
            return Outcome.APPLIED
        return Outcome.SKIPPED


def batch_range(body: str) -> BatchRange:
    """The range a failure-queue message names.

    Raises
    ------
    MessageError
        When the body is not JSON, has no ``DDBStreamBatchInfo``, or its fields are not usable.
    """
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        raise MessageError("not JSON") from None
    info = document.get(BATCH_INFO) if isinstance(document, dict) else None
    if not isinstance(info, dict):
        raise MessageError(f"no {BATCH_INFO}: not a DynamoDB stream on-failure message")
    stream_arn, shard_id = info.get("streamArn"), info.get("shardId")
    if not isinstance(stream_arn, str) or STREAM_MARKER not in stream_arn:
        raise MessageError(f"{BATCH_INFO}.streamArn is not a DynamoDB stream ARN: {str(stream_arn)[:80]!r}")
    if not isinstance(shard_id, str) or not shard_id:
        raise MessageError(f"{BATCH_INFO}.shardId is missing")
    if len(shard_id) not in SHARD_ID_LENGTH:
        raise MessageError(f"{BATCH_INFO}.shardId is not a shard ID (28 to 65 characters): {shard_id[:80]!r}")
    start = _sequence(info.get("startSequenceNumber"), "startSequenceNumber")
    end = _sequence(info.get("endSequenceNumber"), "endSequenceNumber")
    if start > end:
        raise MessageError(f"{BATCH_INFO}: startSequenceNumber {start} is after endSequenceNumber {end}")
    size = info.get("batchSize")
    return BatchRange(stream_arn, shard_id, start, end, size if isinstance(size, int) else None)


def _sequence(value: Any, name: str) -> int:
    if not is_sequence_number(value) or len(value) < MIN_SEQUENCE_DIGITS:
        raise MessageError(f"{BATCH_INFO}.{name} is not a sequence number: {str(value)[:50]!r}")
    return int(value)


NAMED_FOR_RECONCILE = "replayNamedForReconcile"
"""Added to a kept message by the run that named keys of its range for reconcile (``with_named_keys``).

That run applied every record of the range or found it covered, so what covers a record of the range
from past its end on a later run was applied after it: by that run itself (a later batch of the same
item), or by the mapping since. Judged by positions alone, a rerun would name those keys too, and the
list would grow with every run; the keys written here are the ones the range's reading found overtaken."""
MAX_BODY_BYTES = 256 * 1024
"""SQS's message size limit: a list of keys that would not fit is not written (a rerun may then name more)."""


def named_keys(body: str) -> frozenset[str] | None:
    """The keys an earlier run named for the message's range, or None when none wrote them."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        return None
    keys = document.get(NAMED_FOR_RECONCILE) if isinstance(document, dict) else None
    if isinstance(keys, list) and keys and all(isinstance(key, str) for key in keys):
        return frozenset(keys)
    return None


def with_named_keys(body: str, keys: Iterable[str]) -> str | None:
    """The message's body with ``keys`` added to those named before; None when it would not fit in a message."""
    document = json.loads(body)
    document[NAMED_FOR_RECONCILE] = sorted(set(keys) | (named_keys(body) or set()))
    text = json.dumps(document)
    return text if len(text.encode()) <= MAX_BODY_BYTES else None


def in_range(batch: BatchRange, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The records of a page that belong to the batch."""
    return [record for record in records if batch.holds(sequence_of(record))]


def range_gap(batch: BatchRange, first_seen: int | None, last_seen: int | None) -> str | None:
    """Why what the shard returned does not cover the batch's range, or None when it does.

    Reading starts AT the first sequence number, so the first record returned is that record
    unless the stream no longer holds it; reading stops once a record at or past the last one
    was seen, so falling short of it means the shard ran out.
    """
    if first_seen is None or last_seen is None:
        return f"the shard holds no record from {batch.start} to {batch.end}"
    if first_seen > batch.start:
        return f"the shard's records begin at {first_seen}, after the range's first record {batch.start}"
    if last_seen < batch.end:
        return f"the shard holds the range only up to {last_seen}, short of its last record {batch.end}"
    return None


def overtaken(batch: BatchRange, covered: Iterable[Covered]) -> set[str]:
    """The aggregate keys whose records in the range were covered by a position past the range.

    The mapping gave up on the range and went on, so a later record of the same item may have been
    applied first; its position then covers the range's records of that item whether or not they
    were applied (the engine cannot tell them from duplicates), and only ``reconcile`` can say what
    those keys should hold. A position inside the range is the prefix the failed attempts applied.
    """
    end = position_text(stream_label(batch.stream_arn), str(batch.end))
    return {item.group_token for item in covered if item.stored > end}


def failed_keys(records: Sequence[Mapping[str, Any]], dispositions: Sequence[Disposition]) -> list[Mapping[str, Any]]:
    """The ``Keys`` of the records the engine could not apply."""
    return [
        record["dynamodb"].get("Keys", {})
        for record, disposition in zip(records, dispositions, strict=False)
        if disposition is Disposition.FAILED
    ]
