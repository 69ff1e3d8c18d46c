"""The tables as the commands find them: the aggregation checked against their key schemas before
anything is read or written, and the parallel consistent Scan that reconcile and backfill read with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ._lambda_code import EXTREMES_ITEM, EXTREMES_KEY, AggregationSpec
from .errors import CommandError

# --------------------------------------------------------------------------------------------------
# Checking that the aggregation fits the tables, before a command reads or writes anything.
#
# A spec naming keys a table does not have used to surface as ``KeyError: 'Customer'`` deep in a
# scan, or as a write DynamoDB refuses after others had landed. One DescribeTable per table turns
# that into one line naming the spec field and the table. The comparisons are pure; only
# ``check_tables`` calls AWS.

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KeySchema = dict[str, tuple[str, str]]
"""KeyType (HASH, RANGE) -> (attribute name, attribute type)."""


def key_schema(client: DynamoDBClient, table: str) -> KeySchema:
    description = client.describe_table(TableName=table)["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])}
    return {k["KeyType"]: (k["AttributeName"], types.get(k["AttributeName"], "?")) for k in description["KeySchema"]}


def source_problem(spec: AggregationSpec, table: str, schema: KeySchema, string_keys: bool = False) -> str | None:
    """Why ``table`` cannot be the spec's source table, or None."""
    partition = schema.get("HASH", ("", ""))
    if partition[0] != spec.partition_key:
        key = spec.partition_key
        return f"spec partition_key {key!r} is not the partition key of table {table} (it is {partition[0]!r})"
    sort = schema.get("RANGE")
    if spec.sort_key is None and sort is not None:
        return f"spec has no sort_key but table {table} has the sort key {sort[0]!r}"
    if spec.sort_key is not None and (sort is None or sort[0] != spec.sort_key):
        has = f"it is {sort[0]!r}" if sort else "it has none"
        return f"spec sort_key {spec.sort_key!r} is not the sort key of table {table} ({has})"
    for name, kind in filter(None, (partition, sort)):
        if string_keys and kind != "S":
            return f"table {table}'s key {name!r} has type {kind}: load writes keys as strings (S)"
    return None


def aggregate_problem(spec: AggregationSpec, table: str, schema: KeySchema) -> str | None:
    """Why ``table`` cannot be the spec's aggregate table, or None."""
    partition = schema.get("HASH", ("", ""))
    if partition[0] != spec.group_by:
        return f"spec group_by {spec.group_by!r} is not the partition key of table {table} (it is {partition[0]!r})"
    if "RANGE" in schema:
        return f"table {table} has the sort key {schema['RANGE'][0]!r}: an aggregate table is keyed by group_by alone"
    return None


def refuse_same_table(source: str, aggregate: str | None) -> None:
    """Raises ``CommandError`` when one table is named as both: a write meant for one would land on the other."""
    if aggregate == source:
        raise CommandError(
            f"the source table and the aggregate table are both {source}: a write meant for one would overwrite "
            "the other's items (check --source-table, --aggregate-table or the stack outputs)"
        )


def check_tables(
    client: DynamoDBClient, spec: AggregationSpec, source: str, aggregate: str | None, string_keys: bool = False
) -> None:
    """Raises ``CommandError`` when the spec does not fit the source table (or the aggregate table)."""
    refuse_same_table(source, aggregate)
    problem = source_problem(spec, source, key_schema(client, source), string_keys)
    if problem is None and aggregate is not None:
        problem = aggregate_problem(spec, aggregate, key_schema(client, aggregate))
    if problem:
        raise CommandError(problem)


def extremes_problem(table: str, schema: KeySchema) -> str | None:
    """Why ``table`` cannot be an extremes table (handler/extremes.py: keyed by k and i, both strings), or None."""
    want = {"HASH": (EXTREMES_KEY, "S"), "RANGE": (EXTREMES_ITEM, "S")}
    if schema != want:
        return f"table {table} is not an extremes table: its key is {schema}, an extremes table's is {want}"
    return None


def check_extremes_table(client: DynamoDBClient, table: str, flag: str) -> None:
    """Raises ``CommandError`` when ``table`` does not exist or is not an extremes table; ``flag`` says where
    to name the right one."""
    try:
        schema = key_schema(client, table)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        raise CommandError(f"extremes table {table} does not exist: {flag}") from None
    problem = extremes_problem(table, schema)
    if problem:
        raise CommandError(f"{problem}: {flag}")


# --------------------------------------------------------------------------------------------------
# A parallel, paginated, consistent Scan: the read side of reconcile and backfill.

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef


def query_all(client: DynamoDBClient, request: Any, progress: Callable[[int], None]) -> list[dict[str, Any]]:
    """Every item a Query matches, page after page, telling ``progress`` each page's count."""
    return _all_pages(client.query, request, progress)


def _all_pages(read: Callable[..., Any], request: Any, progress: Callable[[int], None]) -> list[dict[str, Any]]:
    """Every item of a paged read (Query or Scan): ``read(**request)`` again from each ``LastEvaluatedKey``."""
    items: list[dict[str, Any]] = []
    request = dict(request)
    while True:
        page = read(**request)
        items.extend(page.get("Items", []))
        progress(len(page.get("Items", [])))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def parallel_scan(
    client: DynamoDBClient,
    table: str,
    segments: int = 4,
    progress: Callable[[int], None] = lambda n: None,
    where: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every item of ``table`` (that passes ``where``'s FilterExpression), read by ``segments`` workers at once."""

    def segment(number: int) -> list[dict[str, Any]]:
        request: ScanInputTypeDef = {
            "TableName": table,
            "Segment": number,
            "TotalSegments": segments,
            "ConsistentRead": True,
            **(where or {}),  # type: ignore[typeddict-item]
        }
        return _all_pages(client.scan, request, progress)

    with ThreadPoolExecutor(max_workers=segments) as pool:
        return [item for part in pool.map(segment, range(segments)) for item in part]
