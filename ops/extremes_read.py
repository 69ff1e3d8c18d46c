"""Reading every entry of some keys in the extremes table (handler/extremes.py), for `reconcile --key`.

A key's min or max alone is one Query of an index (``handler.extremes_query``, which `query` uses);
reconcile compares the entries behind it, read here by a Query of the table per (key, measure), or
by a scan of the whole table when no key is named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._lambda_code import EXTREMES_KEY, Extreme, extremes_key
from .tables import query_all

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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
            items.extend(query_all(client, request, progress))
    return items
