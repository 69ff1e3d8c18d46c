"""`load FILE`: bulk-loading transactions into the source table with BatchWriteItem.

25 items a request (DynamoDB's limit); unprocessed items are retried with backoff until written,
so a throttled load slows down rather than losing rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .rows import ParsedRow, RowError

BATCH_WRITE_LIMIT = 25
MAX_UNPROCESSED_ROUNDS = 8


@dataclass
class LoadSummary:
    loaded: int = 0
    rejected: list[RowError] = field(default_factory=list)


def write_items(
    client: Any, table: str, rows: Sequence[ParsedRow], progress: Callable[[int], None] = lambda n: None
) -> int:
    """Write every row; returns how many were written. Raises if DynamoDB keeps refusing some."""
    written = 0
    for start in range(0, len(rows), BATCH_WRITE_LIMIT):
        chunk = rows[start : start + BATCH_WRITE_LIMIT]
        requests = [{"PutRequest": {"Item": row.item}} for row in chunk]
        for attempt in range(MAX_UNPROCESSED_ROUNDS):
            response = client.batch_write_item(RequestItems={table: requests})
            requests = response.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                break
            time.sleep(min(2.0, 0.05 * 2**attempt))
        else:
            raise RuntimeError(f"DynamoDB left {len(requests)} items unprocessed after {MAX_UNPROCESSED_ROUNDS} tries")
        written += len(chunk)
        progress(len(chunk))
    return written
