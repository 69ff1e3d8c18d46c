"""`query VALUE... [--from A --to B]`: print one aggregate, or one key's buckets over a range, as a table.

Reads the aggregate table only, with strongly consistent reads (GetItem's and BatchGetItem's
ConsistentRead), so what it prints is what the handler has written, not an index's lagging copy.
Exits 1 when no aggregate was found, so scripts can tell.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from ._lambda_code import AggregationSpec, AttributeValue
from .describe import cell
from .errors import CommandError
from .query import key_text, not_found_notes, query_keys, query_table
from .schema import aggregate_problem, key_schema
from .targets import Target

BATCH_GET_KEYS = 100
"""BatchGetItem's limit of keys per request."""
MAX_UNPROCESSED_ROUNDS = 8


def run_query(target: Target, values: list[str], first: str | None, last: str | None, console: Console) -> int:
    dynamodb = target.client("dynamodb")
    schema = key_schema(dynamodb, target.aggregate_table)
    problem = aggregate_problem(target.spec, target.aggregate_table, schema)
    if problem:
        raise CommandError(problem)
    keys = query_keys(target.spec, values, first, last, schema["HASH"][1])
    items = read_keys(dynamodb, target.aggregate_table, target.spec, keys)
    console.print(query_table(target.spec, keys, items))
    if not items:
        for note in not_found_notes(values):
            console.print(f"note: {cell(note)}", soft_wrap=True, highlight=False)
    return 0 if items else 1


def read_keys(
    client: Any, table: str, spec: AggregationSpec, keys: list[AttributeValue]
) -> dict[str, dict[str, AttributeValue]]:
    """The items found, by key text; BatchGetItem 100 keys at a time, unprocessed keys asked again."""
    found: dict[str, dict[str, AttributeValue]] = {}
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request = {table: {"Keys": [{spec.group_by: key} for key in keys[start : start + BATCH_GET_KEYS]]}}
        for attempt in range(MAX_UNPROCESSED_ROUNDS):
            page = client.batch_get_item(RequestItems={t: {**r, "ConsistentRead": True} for t, r in request.items()})
            for item in page.get("Responses", {}).get(table, []):
                found[key_text(item[spec.group_by])] = item
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        if request:
            raise CommandError(f"DynamoDB left {len(request[table]['Keys'])} key(s) unread after retries: try again")
    return found
