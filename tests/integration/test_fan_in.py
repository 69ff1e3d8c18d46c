"""Bounded state at any fan-in, hot keys under contention, and a stream disabled and enabled again.

moto quirks worked around (never in production code): the emulator serves one request at a time
(ops.local.emulator.OneRequestAtATime), as DynamoDB serializes writes to an item, so contention is
injected by the fault proxy as DynamoDB reports it (a TransactionConflict cancellation); records
are built here rather than read from moto's stream, to reach 20,000 items in seconds.
"""

from __future__ import annotations

import io
import json
import random
from decimal import Decimal

import pytest

from aggregations import ORDERS_AGGREGATION
from benchmarks.billing import item_size
from handler.spec import parse_spec
from ops.local.emulator import item_level_transaction_rollback
from ops.local.faultproxy import FaultPlan, fault_proxy
from tests.conftest import drain_queue, make_processor, new_aggregator, read_aggregates, stream_record
from tests.delivery import Delivery, deliver

pytestmark = pytest.mark.integration

ORDERS = parse_spec(ORDERS_AGGREGATION)
SOURCE = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"
STREAM = SOURCE + "/stream/"


def order(sequence, order_id, customer, cents, status="PAID", old=None, label="2026-01-01T00:00:00.000"):
    image = {
        "OrderId": {"S": order_id},
        "CustomerId": {"S": customer},
        "Amount": {"N": format(Decimal(cents).scaleb(-2), "f")},
        "Status": {"S": status},
        "OrderDate": {"S": f"d{sequence}"},
    }
    record = stream_record(sequence, "MODIFY" if old else "INSERT", new=image, old=old, keys=("OrderId",))
    record["eventSourceARN"] = STREAM + label
    return record


@pytest.mark.timeout(600)  # about 40 s alone; room for a loaded machine
def test_ten_thousand_items_per_aggregate_key_stay_exact_and_small(endpoint):
    with item_level_transaction_rollback():  # moto quirk: see its docstring
        fan_in_of_ten_thousand(endpoint)


def fan_in_of_ten_thousand(endpoint):
    aggregator = new_aggregator(endpoint, ORDERS)
    processor = make_processor(endpoint, aggregator, log_stream=io.StringIO(), source_table_arn=SOURCE)
    per_customer = 10_000
    records = [order(10**20 + i, f"o{i}", f"c{i % 2}", 100 + i % 7) for i in range(2 * per_customer)]
    random.Random(1).shuffle(records)
    for index, record in enumerate(records):  # stream order is sequence order
        record["dynamodb"]["SequenceNumber"] = str(10**20 + index)
    failures = []
    for start in range(0, len(records), 100):
        failures += processor.handle({"Records": records[start : start + 100]}, None)["batchItemFailures"]
    assert failures == []
    dynamodb = endpoint.client("dynamodb")
    aggregates = dynamodb.scan(TableName=aggregator.aggregate_table)["Items"]
    assert max(item_size(item) for item in aggregates) < 4 * 1024
    expected = {f"c{c}": sum(Decimal(100 + i % 7) / 100 for i in range(c, 2 * per_customer, 2)) for c in (0, 1)}
    totals = read_aggregates(endpoint, aggregator.aggregate_table, group_by="CustomerId")
    assert {c: (t["Revenue"], t["OrderCount"]) for c, t in totals.items()} == {
        c: (total, per_customer) for c, total in expected.items()
    }
    pages = dynamodb.get_paginator("scan").paginate(TableName=aggregator.ledger_table)
    sizes = [item_size(item) for page in pages for item in page["Items"]]
    assert len(sizes) == 2 * per_customer and max(sizes) < 200, "one small entry per (customer, order)"
    counters = processor.process({"Records": records[:100]}).counters
    assert counters.duplicates_skipped == 100, "a redelivery long after is still skipped"


def test_hot_keys_under_contention_retry_conflicts_count_them_and_stay_exact(endpoint):
    """Four concurrent lanes on two aggregate keys; a third of transactions meet a conflict."""
    rng = random.Random(7)
    records, live = [], {}
    for step in range(600):
        order_id = f"o{rng.randrange(150)}"
        old = live.get(order_id)
        record = order(10**20 + step, order_id, f"c{rng.randrange(2)}", rng.randrange(-500, 50_000), old=old)
        live[order_id] = record["dynamodb"]["NewImage"]
        records.append(record)
    aggregator = new_aggregator(endpoint, ORDERS)
    logs = [io.StringIO() for _ in range(4)]
    with fault_proxy(endpoint.url, FaultPlan(conflict_rate=0.3, seed=7)) as proxy:
        handlers = [
            make_processor(endpoint, aggregator, proxy.url, log_stream=log, source_table_arn=SOURCE).handle
            for log in logs
        ]
        deliver(handlers, records, seed=7, delivery=Delivery(lanes=4, max_batch=40))
        injected = proxy.counts.conflicts
    lines = [json.loads(line) for log in logs for line in log.getvalue().splitlines()]
    counted = sum(line["TransactionConflicts"] for line in lines if line["message"] == "batch processed")
    assert injected > 20 and counted == injected, "every conflict retried inside the invocation, and counted"
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert all(error["records"] > 0 for error in errors), "an ERROR line only when records failed (never 0)"
    expected: dict[str, tuple[Decimal, int]] = {}
    for image in live.values():
        revenue, count = expected.get(image["CustomerId"]["S"], (Decimal(0), 0))
        expected[image["CustomerId"]["S"]] = (revenue + Decimal(image["Amount"]["N"]), count + 1)
    totals = read_aggregates(endpoint, aggregator.aggregate_table, group_by="CustomerId")
    assert {c: (t["Revenue"], t["OrderCount"]) for c, t in totals.items()} == expected


@pytest.mark.parametrize(
    "spec",
    [
        ORDERS,
        parse_spec({"partition_key": "OrderId", "measures": [{"name": "Amount", "op": "sum", "attribute": "Amount"}]}),
    ],
    ids=["ledger", "inline"],
)
def test_a_re_enabled_stream_is_applied_and_a_late_old_stream_record_is_quarantined(endpoint, spec):
    """A new stream restarts sequence numbers; its records must not be taken for duplicates."""
    aggregator = new_aggregator(endpoint, spec)
    processor = make_processor(endpoint, aggregator, source_table_arn=SOURCE)
    first = order(900, "o1", "c1", 1000, label="2026-01-01T00:00:00.000")
    processor.handle({"Records": [first]}, None)
    second = order(5, "o1", "c1", 3000, old=first["dynamodb"]["NewImage"], label="2026-03-01T00:00:00.000")
    assert processor.process({"Records": [second]}).counters.duplicates_skipped == 0
    late = order(901, "o1", "c1", 2000, old=first["dynamodb"]["NewImage"], label="2026-01-01T00:00:00.000")
    result = processor.process({"Records": [late]})
    assert result.response == {"batchItemFailures": []}
    assert result.counters.stale_stream_records == 1
    group = spec.group_by
    measure = spec.sums[0][0]
    assert read_aggregates(endpoint, aggregator.aggregate_table, group_by=group)[
        "c1" if group == "CustomerId" else "o1"
    ][measure] == Decimal(30)
    quarantined = drain_queue(endpoint, aggregator.quarantine_queue_url)
    assert [m["sequenceNumber"] for m in quarantined] == ["901"] and "stale stream" in quarantined[0]["reason"]


def test_the_item_level_rollback_still_undoes_a_cancelled_transaction(endpoint):
    """The moto workaround above must not hide a partial write: cancelled means nothing changed."""
    aggregator = new_aggregator(endpoint, ORDERS)
    dynamodb = endpoint.client("dynamodb")
    table = aggregator.ledger_table
    dynamodb.put_item(TableName=table, Item={"id": {"S": "existing"}, "v": {"S": "before"}})

    def update(key, value, condition=None):
        action = {"TableName": table, "Key": {"id": {"S": key}}, "UpdateExpression": "SET v = :v"}
        action["ExpressionAttributeValues"] = {":v": {"S": value}}
        if condition:
            action["ConditionExpression"] = condition
        return {"Update": action}

    with item_level_transaction_rollback(), pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[update("existing", "after"), update("new", "x"), update("other", "y", "attribute_exists(v)")]
        )
    items = {i["id"]["S"]: i["v"]["S"] for i in dynamodb.scan(TableName=table)["Items"]}
    assert items == {"existing": "before"}
