"""`backfill`: the aggregates of the items that existed before the stream was enabled.

A stream only carries changes made after it was enabled, so with the stream alone an aggregate
equals agg(now) - agg(S0), where S0 is the table at enablement. Backfill adds agg(S0) exactly once.

S0 is not what a scan sees: items change while the scan runs. But every change since enablement is
in the stream (for 24 h), and the first record of an item carries its state at enablement: the
OldImage of a MODIFY or REMOVE, nothing for an INSERT. So:

1. scan the table;
2. then read the stream from TRIM_HORIZON to its end, keeping each item's first record: every
   shard, every page, through empty pages (ops.shard_reader); a read that cannot be complete
   refuses the run before anything is written, since a missed first record would take the scanned
   image for the state at enablement and the marker below would lock it in;
3. S0 of an item = its first record's OldImage if the stream has one (None after an INSERT),
   else the scanned image (it has not changed since enablement: a change would be in the stream,
   which was read after the scan).

The contributions of S0 are ADDed to each aggregate with the marker ``_wmbackfill``, on condition
that the marker is absent, so a rerun after a crash only fills the keys not yet done. `latest`
measures are set only where the stream has not set them yet. It refuses streams enabled more than
23 hours ago: by then the stream may have trimmed an item's first record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ._lambda_code import (
    IMAGES_CARRIED,
    AggregationSpec,
    EventName,
    Expression,
    describe_error,
    key_attributes,
    key_token,
    update_request,
)
from .describe import key_text
from .errors import OpsError
from .numbers import storable_text
from .recompute import BACKFILL_MARKER, GroupTotals
from .shard_reader import RangeExpired, RangeUnfinished, ShardReading, ShardSpan, read_shard, stream_shards
from .stream_events import lambda_record, sequence_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

MAX_STREAM_AGE = timedelta(hours=23)
NOTHING_WRITTEN = "backfill wrote nothing"

ItemKey = tuple[str, ...]


class BackfillError(OpsError):
    """Backfill cannot be exact here; the message says why."""


def item_key(spec: AggregationSpec, image: dict[str, Any]) -> ItemKey:
    names = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    return tuple(key_token(image[name], name) for name in names)


def first_records(
    stream_client: DynamoDBStreamsClient, stream_arn: str, spec: AggregationSpec
) -> dict[ItemKey, dict[str, Any]]:
    """Each item's earliest record in the stream: every shard, from TRIM_HORIZON to its end.

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
    first: dict[ItemKey, tuple[int, dict[str, Any]]] = {}
    for shard in listing.shards:
        try:
            for record in _shard_records(stream_client, shard):
                key = item_key(spec, record["dynamodb"]["Keys"])
                sequence = sequence_of(record)
                if key not in first or sequence < first[key][0]:
                    first[key] = (sequence, record)
        except (ClientError, BotoCoreError) as error:
            raise BackfillError(f"{NOTHING_WRITTEN}: reading shard {shard.shard_id}: {describe_error(error)}") from None
    return {key: record for key, (_, record) in first.items()}


def _shard_records(client: DynamoDBStreamsClient, shard: ShardSpan) -> Iterator[dict[str, Any]]:
    """Every record of one shard; a read that cannot be complete raises BackfillError."""
    reading = ShardReading()
    try:
        for records in read_shard(client, shard, reading):
            yield from (lambda_record(record, shard.stream_arn, "") for record in records)
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


def backfill_request(spec: AggregationSpec, table: str, base: GroupTotals, stamp: str) -> UpdateTypeDef:
    """ADD the base's measures and mark the key, only if not marked yet; ``latest`` only where unset."""
    expression = Expression()
    expression.set("b", BACKFILL_MARKER, {"S": stamp})
    for index, (name, number) in enumerate(base.numbers.items()):
        expression.add(f"n{index}", name, {"N": storable_text(number, name)})
    for index, (name, value) in enumerate(base.latest.items()):
        expression.set_if_absent(f"l{index}", name, value)
    for index, (name, value) in enumerate(key_attributes(spec, base.group_value).items()):
        expression.set_if_absent(f"p{index}", name, value)
    return update_request(table, {spec.group_by: base.group_value}, expression, "attribute_not_exists(#b)")
