"""Reading the extremes table (handler/extremes.py): one key's min or max, and the entries behind them.

A key's extreme is the first entry of its measure's local secondary index: one Query with
``Limit=1``, ascending for min and descending for max, strongly consistent (an LSI, unlike a
global index, can be read so), as the component documents it. The entries themselves, which
reconcile compares, are read by a Query per (key, measure) for the keys named, or by a scan of the
whole table. ``reconcile --repair`` writes them one conditional request at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._lambda_code import (
    EXTREMES_KEY,
    INDEX_NAME,
    VALUE_ATTRIBUTE,
    AttributeValue,
    Extreme,
    MeasureOp,
    extremes_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def extreme_request(table: str, group_token: str, extreme: Extreme) -> dict[str, Any]:
    """The Query whose one item holds ``extreme``'s value for the key (no item: no item contributes)."""
    return {
        "TableName": table,
        "IndexName": INDEX_NAME[extreme.type],
        "KeyConditionExpression": "#k = :k",
        "ExpressionAttributeNames": {"#k": EXTREMES_KEY},
        "ExpressionAttributeValues": {":k": {"S": extremes_key(group_token, extreme.name)}},
        "ScanIndexForward": extreme.op is MeasureOp.MIN,
        "Limit": 1,
        "ConsistentRead": True,
    }


def read_extreme(client: DynamoDBClient, table: str, group_token: str, extreme: Extreme) -> AttributeValue | None:
    """The key's min or max as the index orders it; None when no item contributes."""
    request: Any = extreme_request(table, group_token, extreme)
    items: list[dict[str, Any]] = client.query(**request).get("Items", [])
    return items[0][VALUE_ATTRIBUTE[extreme.type]] if items else None


def read_key_entries(
    client: DynamoDBClient,
    table: str,
    group_tokens: Iterable[str],
    extremes: Iterable[Extreme],
    progress: Callable[[int], None] = lambda n: None,
) -> list[dict[str, Any]]:
    """Every entry of the keys and measures named: one paged Query per (key, measure)."""
    items: list[dict[str, Any]] = []
    measures = [extreme.name for extreme in extremes]
    for token in group_tokens:
        for measure in measures:
            request: Any = {
                "TableName": table,
                "KeyConditionExpression": "#k = :k",
                "ExpressionAttributeNames": {"#k": EXTREMES_KEY},
                "ExpressionAttributeValues": {":k": {"S": extremes_key(token, measure)}},
                "ConsistentRead": True,
            }
            while True:
                page = client.query(**request)
                items.extend(page.get("Items", []))
                progress(len(page.get("Items", [])))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items
