"""Property: per-period aggregates stay exact. Whatever orders are written, re-dated (across bucket,
day and daylight-saving boundaries), moved to another customer or deleted, and however AWS may
deliver their records (lanes, rewinds, duplicates: tests/delivery.py), every (customer, bucket)
aggregate equals a recomputation from the source table's final state, and each aggregate item's
part attributes match its key.

The recomputation reads dates with the standard library directly (strftime, isocalendar,
fromtimestamp), not with the handler's bucket code.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.spec import AggregationSpec, parse_spec
from tests.conftest import SOURCE_TABLE_ARN, TableHistory, make_processor, new_aggregator
from tests.delivery import Delivery, deliver

pytestmark = pytest.mark.integration

MEASURES = [{"name": "Revenue", "op": "sum", "attribute": "Amount"}, {"name": "OrderCount", "op": "count"}]
SPECS = [
    parse_spec(
        {
            "partition_key": "OrderId",
            "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "hour"}],
            "timezone": "Europe/Berlin",
            "measures": MEASURES,
        }
    ),
    parse_spec(
        {
            "partition_key": "OrderId",
            "group_by": [{"attribute": "PlacedAt", "bucket": "day", "date": "epoch_millis"}, "CustomerId"],
            "timezone": "America/New_York",
            "measures": MEASURES,
        }
    ),
    parse_spec(
        {
            "partition_key": "OrderId",
            "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "week"}],
            "measures": MEASURES,
        }
    ),
]
LABEL_FORMATS = {"minute": "%Y-%m-%dT%H:%M", "hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}

BOUNDARIES = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin springs forward (02:00 CET -> 03:00 CEST)
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Berlin falls back (03:00 CEST -> 02:00 CET)
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
    datetime(2026, 12, 31, 23, 0, tzinfo=UTC),  # a year's end, in ISO week 53 of 2026
    datetime(2027, 1, 4, 0, 0, tzinfo=UTC),  # ISO week 1 of 2027 begins
]
instant = st.builds(
    lambda base, seconds: base + timedelta(seconds=seconds),
    st.sampled_from(BOUNDARIES),
    st.integers(-3 * 3600, 3 * 3600),
)
rendering = st.sampled_from(["Z", "+05:30", "-08:00", "naive", "date-only", "garbage"])
operation = st.tuples(
    st.sampled_from(["put", "put", "put", "delete"]),
    st.integers(0, 5),  # order
    st.integers(0, 2),  # customer
    st.integers(-10_000, 1_000_000),  # amount in cents
    instant,
    rendering,
)


def render(moment: datetime, how: str, spec: AggregationSpec) -> str:
    """An ISO date in several forms; 'naive' is wall-clock time in the spec's zone; 'garbage' is invalid."""
    if how == "Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if how == "naive":
        return moment.astimezone(ZoneInfo(spec.timezone or "UTC")).replace(tzinfo=None).isoformat()
    if how == "date-only":
        return moment.date().isoformat()
    if how == "garbage":
        return moment.strftime("%m%d%Y")
    hours, minutes = int(how[1:3]), int(how[4:6])
    offset = timedelta(hours=hours, minutes=minutes) * (1 if how[0] == "+" else -1)
    return moment.astimezone(timezone(offset)).isoformat()


def run_model(spec: AggregationSpec, operations) -> tuple[list[dict[str, Any]], dict[tuple[str, ...], dict[str, Any]]]:
    history = TableHistory(("OrderId",))
    for step, (kind, order, customer, cents, moment, how) in enumerate(operations):
        millis = int(moment.timestamp() * 1000) + step  # milliseconds too, and a negative-free epoch
        new = {
            "OrderId": {"S": f"o{order}"},
            "CustomerId": {"S": f"c{customer}#{customer % 2}"},  # a separator inside a value
            "Amount": {"N": format(Decimal(cents).scaleb(-2), "f")},
            "OrderDate": {"S": render(moment, how, spec)},
            "PlacedAt": {"N": str(millis)} if how != "garbage" else {"S": str(millis)},
        }
        history.change(step, kind, new)
    return history.records, history.table


def oracle_label(spec: AggregationSpec, item: dict[str, Any]) -> str | None:
    """The bucket label by the standard library alone; None for a date the spec cannot read."""
    part = spec.first_bucket_part
    tz = ZoneInfo(spec.timezone or "UTC")
    if part.date.value == "epoch_millis":
        if "N" not in item[part.attribute]:
            return None
        wall = datetime.fromtimestamp(math.floor(int(item[part.attribute]["N"]) / 1000), tz).replace(tzinfo=None)
    else:
        try:
            parsed = datetime.fromisoformat(item[part.attribute]["S"])
        except ValueError:
            return None
        wall = parsed if parsed.tzinfo is None else parsed.astimezone(tz).replace(tzinfo=None)
    if part.bucket.value == "week":
        year, week, _ = wall.isocalendar()
        return f"{year}-W{week:02d}"
    return wall.strftime(LABEL_FORMATS[part.bucket.value])


def recompute(spec: AggregationSpec, table) -> dict[tuple[str, str], tuple[Decimal, int]]:
    result: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for item in table.values():
        bucket = oracle_label(spec, item)
        if bucket is not None:
            group = (item["CustomerId"]["S"], bucket)
            revenue, count = result.get(group, (Decimal(0), 0))
            result[group] = (revenue + Decimal(item["Amount"]["N"]), count + 1)
    return result


def read_groups(endpoint, spec: AggregationSpec, table: str) -> dict[tuple[str, str], tuple[Decimal, int]]:
    """The aggregate table by (customer, bucket), read from the part attributes, checked against the key."""
    bucket_part = spec.first_bucket_part
    result = {}
    for item in endpoint.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]:
        customer, bucket = item["CustomerId"]["S"], item[bucket_part.name]["S"]
        texts = [customer if part.bucket is None else bucket for part in spec.group_parts]
        assert item[spec.group_by]["S"] == "#".join(t.replace("\\", "\\\\").replace("#", "\\#") for t in texts)
        result[(customer, bucket)] = (Decimal(item["Revenue"]["N"]), int(item["OrderCount"]["N"]))
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec_index=st.integers(0, len(SPECS) - 1),
    operations=st.lists(operation, min_size=1, max_size=30),
    lanes=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_per_period_aggregates_equal_recomputation(moto_endpoint, spec_index, operations, lanes, seed):
    spec = SPECS[spec_index]
    records, table = run_model(spec, operations)
    aggregator = new_aggregator(moto_endpoint, spec)
    handlers = [
        make_processor(moto_endpoint, aggregator, source_table_arn=SOURCE_TABLE_ARN).handle for _ in range(lanes)
    ]
    delivery = Delivery(lanes=lanes, max_batch=8, duplicate_rate=0.25, rewind_rate=0.25)
    deliver(handlers, records, seed, delivery)
    actual = read_groups(moto_endpoint, spec, aggregator.aggregate_table)
    expected = recompute(spec, table)
    zero = (Decimal(0), 0)
    for group in set(actual) | set(expected):
        assert actual.get(group, zero) == expected.get(group, zero), group
