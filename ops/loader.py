"""`load FILE`: bulk-loading transactions into the source table with BatchWriteItem.

25 items a request (DynamoDB's limit); unprocessed items are retried with backoff until written,
so a throttled load slows down rather than losing rows. Every row was validated before the first
request (ops.load_plan), so a refused request means DynamoDB itself failed: the error says how
far the load got, because BatchWriteItem cannot undo the requests that landed before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ._lambda_code import describe_error
from .errors import CommandError
from .load_plan import ParsedRow
from .rows import RowError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestUnionTypeDef

BATCH_WRITE_LIMIT = 25
MAX_UNPROCESSED_ROUNDS = 8


@dataclass
class LoadSummary:
    loaded: int = 0
    rejected: list[RowError] = field(default_factory=list)
    skipped_duplicates: int = 0


def write_items(
    client: DynamoDBClient, table: str, rows: Sequence[ParsedRow], progress: Callable[[int], None] = lambda n: None
) -> int:
    """Write every row; returns how many were written. Raises ``CommandError`` if DynamoDB refuses."""
    written = 0
    for start in range(0, len(rows), BATCH_WRITE_LIMIT):
        chunk = rows[start : start + BATCH_WRITE_LIMIT]
        try:
            _write_chunk(client, table, chunk)
        except (ClientError, BotoCoreError, CommandError) as error:
            raise CommandError(
                f"{describe_error(error)}: the load stopped at line {chunk[0].line}; "
                f"the {written} row(s) before it are in {table}"
            ) from None
        written += len(chunk)
        progress(len(chunk))
    return written


def _write_chunk(client: DynamoDBClient, table: str, chunk: Sequence[ParsedRow]) -> None:
    requests: Sequence[WriteRequestUnionTypeDef] = [{"PutRequest": {"Item": row.item}} for row in chunk]
    for attempt in range(MAX_UNPROCESSED_ROUNDS):
        response = client.batch_write_item(RequestItems={table: requests})
        requests = response.get("UnprocessedItems", {}).get(table, [])
        if not requests:
            return
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise CommandError(f"DynamoDB left {len(requests)} items unprocessed after {MAX_UNPROCESSED_ROUNDS} tries")
