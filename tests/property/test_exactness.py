"""Property: whatever the operations and however Lambda delivers them, the aggregates equal a
recomputation from the source table's final state.

Operations run on an in-memory model of the source table, which also writes the stream records
(one per change, as DynamoDB does). Deliveries are contiguous slices that may restart from any
earlier point (retries, bisect halves, redelivery after a partial failure) or repeat (duplicate
delivery). The handler writes to a real (moto) aggregate table.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregations import ORDERS_AGGREGATION
from handler.spec import parse_spec
from tests.conftest import make_processor, new_aggregator, read_aggregates, stream_record

pytestmark = pytest.mark.integration

SPEC = parse_spec(ORDERS_AGGREGATION)

operation = st.tuples(
    st.sampled_from(["put", "put", "put", "delete"]),
    st.integers(0, 4),  # order
    st.integers(0, 2),  # customer
    st.integers(-10_000, 1_000_000),  # amount in cents
    st.sampled_from(["PAID", "PAID", "PENDING"]),
)
delivery = st.tuples(st.integers(1, 8), st.integers(0, 12), st.booleans())  # size, rewind, duplicate


def run_model(operations: list[tuple[str, int, int, int, str]]) -> tuple[list[dict[str, Any]], dict[int, dict], dict]:
    table: dict[int, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    latest: dict[str, str] = {}
    for step, (kind, order, customer, cents, status) in enumerate(operations):
        sequence = 10**20 + step
        old = table.get(order)
        if kind == "delete":
            if old is not None:
                records.append(stream_record(sequence, "REMOVE", old=old, keys=("OrderId",)))
                del table[order]
            continue
        new = {
            "OrderId": {"S": f"o{order}"},
            "CustomerId": {"S": f"c{customer}"},
            "Amount": {"N": format(Decimal(cents).scaleb(-2), "f")},
            "OrderDate": {"S": f"day-{step:04d}"},
            "Status": {"S": status},
        }
        table[order] = new
        records.append(stream_record(sequence, "MODIFY" if old else "INSERT", new=new, old=old, keys=("OrderId",)))
        if status == "PAID":
            latest[f"c{customer}"] = new["OrderDate"]["S"]
    return records, table, latest


def recompute(table: dict[int, dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    result: dict[str, dict[str, Decimal]] = {}
    for item in table.values():
        if item["Status"]["S"] != "PAID":
            continue
        entry = result.setdefault(item["CustomerId"]["S"], {"Revenue": Decimal(0), "OrderCount": Decimal(0)})
        entry["Revenue"] += Decimal(item["Amount"]["N"])
        entry["OrderCount"] += 1
    return result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=30), schedule=st.lists(delivery, max_size=40))
def test_aggregates_equal_recomputation(moto_endpoint, operations, schedule):
    records, table, latest = run_model(operations)
    aggregator = new_aggregator(moto_endpoint, SPEC)
    processor = make_processor(moto_endpoint, aggregator)
    frontier = 0
    for size, rewind, duplicate in schedule:
        if frontier >= len(records):
            break
        start = max(0, frontier - rewind)
        batch = records[start : start + size]
        for _ in range(2 if duplicate else 1):
            assert processor.handle({"Records": batch}, None) == {"batchItemFailures": []}
        frontier = max(frontier, start + len(batch))
    if frontier < len(records):
        processor.handle({"Records": records[frontier:]}, None)
    actual = read_aggregates(moto_endpoint, aggregator.aggregate_table, group_by="CustomerId")
    expected = recompute(table)
    for customer in set(actual) | set(expected):
        want = expected.get(customer, {"Revenue": Decimal(0), "OrderCount": Decimal(0)})
        got = actual.get(customer, {"Revenue": Decimal(0), "OrderCount": Decimal(0)})
        assert (got["Revenue"], got["OrderCount"]) == (want["Revenue"], want["OrderCount"]), customer
        assert got.get("LastOrderDate") == latest.get(customer), customer
