"""A parallel, paginated, consistent Scan: the read side of reconcile and backfill."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef


def parallel_scan(
    client: DynamoDBClient,
    table: str,
    segments: int = 4,
    progress: Callable[[int], None] = lambda n: None,
    where: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every item of ``table`` (that passes ``where``'s FilterExpression), read by ``segments`` workers at once."""

    def segment(number: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: ScanInputTypeDef = {
            "TableName": table,
            "Segment": number,
            "TotalSegments": segments,
            "ConsistentRead": True,
            **(where or {}),  # type: ignore[typeddict-item]
        }
        while True:
            page = client.scan(**request)
            items.extend(page.get("Items", []))
            progress(len(page.get("Items", [])))
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=segments) as pool:
        return [item for part in pool.map(segment, range(segments)) for item in part]
