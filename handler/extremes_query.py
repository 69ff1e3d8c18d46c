"""Reading a min or max from the extremes table: one Query, the only AWS call readers need.

The handler never reads the table (it only Puts and Deletes entries, in its transactions); the
operator's commands and users' programs do, through this. The table's local index orders a key's
entries by value, so the smallest is the first ascending and the largest the first descending:
``Limit=1`` reads one entry, however many items the key has. ``ConsistentRead`` sees every
transaction that has landed (a local index supports it; a global one would not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .attributes import AttributeValue
from .extremes import EXTREMES_KEY, INDEX_NAME, VALUE_ATTRIBUTE, extremes_key
from .spec import AggregationSpec, Extreme, MeasureOp

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb import DynamoDBClient


def read_extreme(client: DynamoDBClient, table: str, group_token: str, extreme: Extreme) -> AttributeValue | None:
    """The min or max of one aggregate key (its ``group_token``, as ``attributes.key_token`` gives it),
    or None when no item contributes."""
    response = client.query(
        TableName=table,
        IndexName=INDEX_NAME[extreme.type],
        KeyConditionExpression="#k = :k",
        ExpressionAttributeNames={"#k": EXTREMES_KEY},
        ExpressionAttributeValues={":k": {"S": extremes_key(group_token, extreme.name)}},
        ScanIndexForward=extreme.op is MeasureOp.MIN,
        Limit=1,
        ConsistentRead=True,
    )
    items = response.get("Items", [])
    value = items[0].get(VALUE_ATTRIBUTE[extreme.type]) if items else None
    return dict(value) if value is not None else None


def read_extremes(
    client: DynamoDBClient, table: str, spec: AggregationSpec, group_token: str
) -> dict[str, AttributeValue | None]:
    """Every min/max of one aggregate key, by measure name: ``reading.read_measures``' ``extremes``."""
    return {extreme.name: read_extreme(client, table, group_token, extreme) for extreme in spec.extremes}
