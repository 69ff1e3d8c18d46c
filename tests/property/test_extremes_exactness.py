"""Property: over random histories of inserts, modifies (moves between groups included) and removes,
delivered as badly as AWS allows (``tests/delivery.py``: each item's records in order and nothing more,
on concurrent lanes, with duplicate and rewound batches) and, at random, through the fault proxy (lost
writes, writes applied but answered with a 500, outages), every min, max, avg, sum and count equals a
recomputation from the final source table.

The recomputation reads the table's final state with the standard library only: Decimal for numbers,
Python's string order for the ISO dates (code point order, which for these ASCII dates is DynamoDB's
UTF-8 byte order), and the stated precision of an average (38 digits, half to even) restated here.

moto quirks worked around (never in production code): records are made from an in-memory model of the
table (moto's UpdateItem on a new key emits two INSERTs); its TransactWriteItems deep-copies every table
it touches once per action, so histories stay small (a few items per example, at most 30 operations);
its ADD rounds to 28 digits, so amounts keep their sums under that (tests/unit prove the 38-digit rules).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.attributes import key_token
from handler.extremes_query import read_extremes
from handler.reading import read_measures
from handler.spec import AggregationSpec, parse_spec
from ops.local.faultproxy import FaultPlan, fault_proxy
from tests.conftest import SOURCE_TABLE_ARN, TableHistory, make_processor, new_aggregator
from tests.delivery import Delivery, deliver

pytestmark = pytest.mark.integration

MEASURES = [
    {"name": "Revenue", "op": "sum", "attribute": "Amount"},
    {"name": "Orders", "op": "count"},
    {"name": "Mean", "op": "avg", "attribute": "Amount"},
    {"name": "Largest", "op": "max", "attribute": "Amount"},
    {"name": "Smallest", "op": "min", "attribute": "Amount"},
    {"name": "FirstDate", "op": "min", "attribute": "OrderDate", "type": "S"},
    {"name": "LastDate", "op": "max", "attribute": "OrderDate", "type": "S"},
]
BY_STATUS = parse_spec(
    {"partition_key": "CustomerId", "sort_key": "OrderId", "group_by": "Status", "measures": MEASURES}
)
"""Ledger mode: many orders per status, an order moves when its status changes; min/max in the extremes table."""
BY_ORDER = parse_spec({"partition_key": "OrderId", "measures": MEASURES})
"""Single-source mode: one order per aggregate item, min/max SET and REMOVEd on it."""
SPECS = [BY_STATUS, BY_STATUS, BY_ORDER]
AVERAGE = Context(prec=38, rounding=ROUND_HALF_EVEN)

operation = st.tuples(
    st.sampled_from(["put", "put", "put", "delete"]),
    st.integers(0, 5),  # order
    st.sampled_from(["c1", "c2"]),  # customer (the partition key of BY_STATUS)
    st.sampled_from(["-3", "0", "1.5", "1.50", "7", "7", "12.25", "12345678901234567.5"]),
    st.sampled_from(["PAID", "PAID", "NEW", "SHIPPED"]),
    st.sampled_from(["2026-11-01", "2026-11-02", "2026-11-28", "2026-12-01"]),
)


def run_model(spec: AggregationSpec, operations) -> tuple[list[dict[str, Any]], dict[tuple[str, ...], dict[str, Any]]]:
    """The stream records the operations make (one per change, as DynamoDB writes them) and the final table."""
    history = TableHistory((spec.partition_key,) + ((spec.sort_key,) if spec.sort_key else ()))
    for step, (kind, order, customer, amount, status, date) in enumerate(operations):
        new = {
            "OrderId": {"S": f"o{order}"},
            "CustomerId": {"S": customer if spec.sort_key else "c1"},
            "Amount": {"N": amount},
            "OrderDate": {"S": date},
            "Status": {"S": status},
        }
        history.change(step, kind, new)
    return history.records, history.table


def recompute(spec: AggregationSpec, table) -> dict[str, dict[str, Any]]:
    """Every measure per group, from the final items alone."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in table.values():
        groups.setdefault(item[spec.group_by]["S"], []).append(item)
    result = {}
    for group, items in groups.items():
        amounts = [Decimal(item["Amount"]["N"]) for item in items]
        dates = [item["OrderDate"]["S"] for item in items]
        result[group] = {
            "Revenue": sum(amounts, Decimal(0)),
            "Orders": Decimal(len(items)),
            "Mean": AVERAGE.divide(sum(amounts, Decimal(0)), len(items)),
            "Largest": max(amounts),
            "Smallest": min(amounts),
            "FirstDate": min(dates),
            "LastDate": max(dates),
        }
    return result


EMPTY = {"Revenue": Decimal(0), "Orders": Decimal(0), "Mean": None}
"""A group every item has left: its sums are 0, its average and extremes have no value."""


def observed(endpoint, aggregator) -> dict[str, dict[str, Any]]:
    spec, dynamodb = aggregator.spec, endpoint.client("dynamodb")
    result = {}
    for item in dynamodb.scan(TableName=aggregator.aggregate_table, ConsistentRead=True)["Items"]:
        token = key_token(item[spec.group_by], spec.group_by)
        extremes = read_extremes(dynamodb, aggregator.extremes_table, spec, token) if spec.uses_extremes_table else None
        values = read_measures(spec, item, extremes)
        result[item[spec.group_by]["S"]] = {
            name: None if value is None else Decimal(value["N"]) if "N" in value else value["S"]
            for name, value in values.items()
        }
    return result


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=st.sampled_from(SPECS),
    operations=st.lists(operation, min_size=1, max_size=30),
    lanes=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    faults=st.booleans(),
)
def test_every_measure_equals_a_recomputation_from_the_final_table(
    moto_endpoint, spec, operations, lanes, seed, faults
):
    records, table = run_model(spec, operations)
    aggregator = new_aggregator(moto_endpoint, spec)
    delivery = Delivery(lanes=lanes, max_batch=8, duplicate_rate=0.2, rewind_rate=0.2)
    plan = FaultPlan(lose_rate=0.1, applied_then_error_rate=0.1, outage_rate=0.02, outage_length=3, seed=seed)
    with fault_proxy(moto_endpoint.url, plan if faults else FaultPlan()) as proxy:
        handlers = [
            make_processor(
                moto_endpoint, aggregator, dynamodb_url=proxy.url, max_attempts=1, source_table_arn=SOURCE_TABLE_ARN
            ).handle
            for _ in range(lanes)
        ]
        deliver(handlers, records, seed, delivery)
    expected = recompute(spec, table)
    actual = observed(moto_endpoint, aggregator)
    for group in set(actual) | set(expected):
        want = expected.get(group)
        got = actual.get(group)
        if want is None:  # emptied: zero sums, no average, no extremes
            assert got is not None and {k: v for k, v in got.items() if v is not None} == {
                "Revenue": Decimal(0),
                "Orders": Decimal(0),
            }, (group, got)
        else:
            assert got == want, (group, got, want)
