"""`backfill`: the aggregates of the items that existed before the stream was enabled.

A stream only carries changes made after it was enabled, so with the stream alone an aggregate
equals agg(now) - agg(S0), where S0 is the table at enablement. Backfill adds agg(S0) exactly once.

S0 is not what a scan sees: items change while the scan runs. But every change since enablement is
in the stream (for 24 h), and the first record of an item carries its state at enablement: the
OldImage of a MODIFY or REMOVE, nothing for an INSERT. So:

1. scan the table;
2. then read the stream from TRIM_HORIZON to its end, keeping each item's first record;
3. S0 of an item = its first record's OldImage if the stream has one (None after an INSERT),
   else the scanned image (it has not changed since enablement: a change would be in the stream,
   which was read after the scan).

The contributions of S0 are ADDed to each aggregate with the marker ``_wmbackfill``, on condition
that the marker is absent, so a rerun after a crash only fills the keys not yet done. `latest`
measures are set only where the stream has not set them yet. It refuses streams enabled more than
23 hours ago: by then the stream may have trimmed an item's first record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from handler.attributes import key_token
from handler.fold import Expression, update_request
from handler.grouping import key_attributes
from handler.spec import INTERNAL_PREFIX, AggregationSpec

from .errors import OpsError
from .numbers import storable_text
from .recompute import GroupTotals
from .stream_events import lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

BACKFILL_MARKER = f"{INTERNAL_PREFIX}backfill"
MAX_STREAM_AGE = timedelta(hours=23)

ItemKey = tuple[str, ...]


class BackfillError(OpsError):
    """Backfill cannot be exact here; the message says why."""


def item_key(spec: AggregationSpec, image: dict[str, Any]) -> ItemKey:
    names = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    return tuple(key_token(image[name], name) for name in names)


def first_records(
    stream_client: DynamoDBStreamsClient, stream_arn: str, spec: AggregationSpec
) -> dict[ItemKey, dict[str, Any]]:
    """Each item's earliest record in the stream, from TRIM_HORIZON to the current end."""
    description = stream_client.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    created = description.get("CreationRequestDateTime")
    if isinstance(created, datetime) and datetime.now(UTC) - created > MAX_STREAM_AGE:
        raise BackfillError(
            f"the stream was enabled at {created.isoformat()}, more than {MAX_STREAM_AGE} ago: it may have trimmed "
            "records, so the table's state at enablement is lost. Reconcile instead (quiesce writers first)."
        )
    first: dict[ItemKey, tuple[int, dict[str, Any]]] = {}
    for shard in description.get("Shards", []):
        for record in _shard_records(stream_client, stream_arn, shard["ShardId"]):
            key = item_key(spec, record["dynamodb"]["Keys"])
            sequence = int(record["dynamodb"]["SequenceNumber"])
            if key not in first or sequence < first[key][0]:
                first[key] = (sequence, record)
    return {key: record for key, (_, record) in first.items()}


def _shard_records(client: DynamoDBStreamsClient, stream_arn: str, shard_id: str) -> Iterable[dict[str, Any]]:
    iterator = client.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    while iterator:
        page = client.get_records(ShardIterator=iterator)
        if not page.get("Records"):
            return
        yield from (lambda_record(record, stream_arn, "") for record in page["Records"])
        iterator = page.get("NextShardIterator")


def initial_images(
    spec: AggregationSpec, scanned: Iterable[dict[str, Any]], first: dict[ItemKey, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The items as they were when the stream was enabled (see the module docstring)."""
    images = [item for item in scanned if item_key(spec, item) not in first]
    images.extend(
        r["dynamodb"]["OldImage"] for r in first.values() if r["eventName"] != "INSERT" and "OldImage" in r["dynamodb"]
    )
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
