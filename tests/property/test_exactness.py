"""Property: whatever the operations and however AWS may deliver them, the aggregates equal a
recomputation from the source table's final state, with or without the mapping's filter criteria.

Operations run on an in-memory model of the source table, which also writes the stream records
(one per change, as DynamoDB does). Delivery keeps only what AWS promises: each item's records in
order. Items go to lanes (concurrent batch streams: a ParallelizationFactor above 1, or a hot
partition split across shards), so items of one partition key meet in any interleaving; within a
lane, deliveries are contiguous slices that may restart from any earlier point (retries, bisect
halves, redelivery after a partial failure) or repeat (duplicate delivery). The handler writes to
a real (moto) aggregate table and ledger.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregations import ORDERS_AGGREGATION
from components.filter_criteria import filter_patterns
from handler.spec import AggregationSpec, parse_spec
from tests.conftest import SOURCE_TABLE_ARN, TableHistory, make_processor, new_aggregator, read_aggregates
from tests.event_filter import passes as lambda_sends

pytestmark = pytest.mark.integration

ORDERS_BY_CUSTOMER = parse_spec(ORDERS_AGGREGATION)
"""No sort key; grouped by a non-key attribute that orders may change (they move), filtered."""
ORDERS_BY_STATUS = parse_spec(
    {
        **{key: value for key, value in ORDERS_AGGREGATION.items() if key != "filter"},
        "partition_key": "CustomerId",
        "sort_key": "OrderId",
        "group_by": "Status",
    }
)
"""A sort key: many items per partition key, each its own idempotency unit."""
SPECS = [ORDERS_BY_CUSTOMER, ORDERS_BY_STATUS]
STATUSES = ["PAID", "PAID", "PENDING"]

operation = st.tuples(
    st.sampled_from(["put", "put", "put", "delete"]),
    st.integers(0, 4),  # order
    st.integers(0, 2),  # customer
    st.integers(-10_000, 1_000_000),  # amount in cents
    st.sampled_from(STATUSES),
)
delivery = st.tuples(st.integers(0, 2), st.integers(1, 8), st.integers(0, 12), st.booleans())
"""lane, size, rewind, duplicate"""


def key_names(spec: AggregationSpec) -> tuple[str, ...]:
    return (spec.partition_key,) + ((spec.sort_key,) if spec.sort_key else ())


def run_model(spec: AggregationSpec, operations: list[tuple[str, int, int, int, str]]):
    """The stream records and the final table; returns (records, table, latest value by group)."""
    history = TableHistory(key_names(spec))
    latest: dict[str, str] = {}
    for step, (kind, order, customer, cents, status) in enumerate(operations):
        new = {
            "OrderId": {"S": f"o{order}"},
            "CustomerId": {"S": f"c{customer}"},
            "Amount": {"N": format(Decimal(cents).scaleb(-2), "f")},
            "OrderDate": {"S": f"day-{step:04d}"},
            "Status": {"S": status},
        }
        history.change(step, kind, new)
        if kind != "delete" and passes(spec, new):
            latest[new[spec.group_by]["S"]] = new["OrderDate"]["S"]
    return history.records, history.table, latest


def passes(spec: AggregationSpec, image: dict[str, Any]) -> bool:
    return spec.item_filter is None or ("S", image["Status"]["S"]) in spec.item_filter.values


def recompute(spec: AggregationSpec, table) -> dict[str, tuple[Decimal, Decimal]]:
    result: dict[str, tuple[Decimal, Decimal]] = {}
    for item in table.values():
        if passes(spec, item):
            revenue, count = result.get(item[spec.group_by]["S"], (Decimal(0), Decimal(0)))
            result[item[spec.group_by]["S"]] = (revenue + Decimal(item["Amount"]["N"]), count + 1)
    return result


def lanes_of(spec: AggregationSpec, records, lanes: int, salt: int) -> list[list[dict[str, Any]]]:
    """Each item to one lane at random, its records in their order."""
    rng = random.Random(salt)
    lane_of: dict[tuple, int] = {}
    result: list[list[dict[str, Any]]] = [[] for _ in range(lanes)]
    for record in records:
        item = tuple(record["dynamodb"]["Keys"][name]["S"] for name in key_names(spec))
        result[lane_of.setdefault(item, rng.randrange(lanes))].append(record)
    return result


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec_index=st.integers(0, len(SPECS) - 1),
    operations=st.lists(operation, min_size=1, max_size=30),
    lanes=st.integers(1, 3),
    salt=st.integers(0, 2**16),
    schedule=st.lists(delivery, max_size=40),
    filtered_at_mapping=st.booleans(),
)
def test_aggregates_equal_recomputation(
    moto_endpoint, spec_index, operations, lanes, salt, schedule, filtered_at_mapping
):
    spec = SPECS[spec_index]
    records, table, latest = run_model(spec, operations)
    patterns = filter_patterns(spec)
    if filtered_at_mapping and patterns is not None:  # what Lambda sends with the component's criteria
        records = [record for record in records if lambda_sends(patterns, record)]
    streams = lanes_of(spec, records, lanes, salt)
    aggregator = new_aggregator(moto_endpoint, spec)
    processor = make_processor(moto_endpoint, aggregator, source_table_arn=SOURCE_TABLE_ARN)
    frontier = [0] * lanes
    for lane, size, rewind, duplicate in schedule:
        lane %= lanes
        if frontier[lane] >= len(streams[lane]):
            continue
        start = max(0, frontier[lane] - rewind)
        batch = streams[lane][start : start + size]
        for _ in range(2 if duplicate else 1):
            assert processor.handle({"Records": batch}, None) == {"batchItemFailures": []}
        frontier[lane] = max(frontier[lane], start + len(batch))
    for lane, stream in enumerate(streams):
        if frontier[lane] < len(stream):
            assert processor.handle({"Records": stream[frontier[lane] :]}, None) == {"batchItemFailures": []}
    actual = read_aggregates(moto_endpoint, aggregator.aggregate_table, group_by=spec.group_by)
    expected = recompute(spec, table)
    zero = (Decimal(0), Decimal(0))
    for group in set(actual) | set(expected):
        got = actual.get(group, {})
        assert (got.get("Revenue", Decimal(0)), got.get("OrderCount", Decimal(0))) == expected.get(group, zero), group
        if lanes == 1:  # `latest` follows stream order, which only one lane keeps across items
            assert got.get("LastOrderDate") == latest.get(group), group
