import json

import pytest

from handler.planner import plan_batch
from handler.records import event_records
from tests.conftest import invoice_image, load_event, stream_record


def test_seed_batch_is_one_key(invoice_spec):
    plan = plan_batch(invoice_spec, event_records(load_event("invoice_seed.json")), now=0)
    assert list(plan.keys) == ["S:ABC"] and len(plan.keys["S:ABC"].deltas) == 2
    assert plan.counters.keys == 1 and plan.counters.quarantined == 0


def test_bad_records_are_quarantined_and_the_batch_goes_on(invoice_spec):
    plan = plan_batch(invoice_spec, event_records(load_event("invoice_bad_amount.json")), now=0)
    assert [q.position for q in plan.quarantine] == [1, 2]
    assert "must be a number" in plan.quarantine[0].reason and "missing" in plan.quarantine[1].reason
    assert [d.position for d in plan.keys["S:BAD-1"].deltas] == [0, 3]


def test_noop_modify_needs_no_write(invoice_spec):
    same = invoice_image("ABC", "1", "5")
    spec_without_latest = invoice_spec.__class__(
        partition_key=invoice_spec.partition_key,
        group_by=invoice_spec.group_by,
        measures=invoice_spec.measures[:2],
    )
    plan = plan_batch(
        spec_without_latest, event_records({"Records": [stream_record(1, "MODIFY", old=same, new=same)]}), 0
    )
    assert plan.keys == {}


def test_items_of_one_partition_key_may_come_in_any_order(invoice_spec):
    """AWS orders records per item, not per partition key: transactions A/1 and A/2 are two items."""
    records = [
        stream_record(20, "INSERT", new=invoice_image("A", "1", "1")),
        stream_record(10, "INSERT", new=invoice_image("A", "2", "1")),
    ]
    plan = plan_batch(invoice_spec, event_records({"Records": records}), 0)
    assert plan.counters.ordering_violations == 0 and plan.quarantine == []
    assert [d.position for d in plan.keys["S:A"].deltas] == [0, 1]


def test_an_item_out_of_order_is_quarantined(invoice_spec):
    records = [
        stream_record(20, "INSERT", new=invoice_image("A", "1", "1")),
        stream_record(10, "MODIFY", old=invoice_image("A", "1", "1"), new=invoice_image("A", "1", "2")),
        stream_record(15, "INSERT", new=invoice_image("B", "1", "1")),
    ]
    plan = plan_batch(invoice_spec, event_records({"Records": records}), 0)
    assert plan.counters.ordering_violations == 1
    assert [q.position for q in plan.quarantine] == [1] and "same item" in plan.quarantine[0].reason
    assert sorted(plan.keys) == ["S:A", "S:B"]


def test_missing_creation_time_uses_now(invoice_spec):
    record = stream_record(1, "INSERT", new=invoice_image("A", "1", "1"))
    del record["dynamodb"]["ApproximateCreationDateTime"]
    plan = plan_batch(invoice_spec, event_records({"Records": [record]}), now=1234.9)
    assert plan.keys["S:A"].deltas[0].created_at == 1234


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "general path"])
@pytest.mark.parametrize(
    "created",
    [
        json.loads("1e400"),  # inf, as Python's json reads it
        -json.loads("1e400"),
        float("nan"),
        -1e300,
        10**400,  # an integer too large for a float
        1e300,
        True,
        "1700000000",
    ],
    ids=lambda value: repr(value)[:12],
)
def test_an_unusable_creation_time_counts_as_absent_on_both_paths(invoice_spec, created, fast):
    """ApproximateCreationDateTime only dates the ledger entry's expiry, and now is always late enough
    for that: a value no clock gives never raises out of the batch (int(inf) did) nor dates an entry."""
    odd = stream_record(1, "INSERT", new=invoice_image("A", "1", "2"))
    odd["dynamodb"]["ApproximateCreationDateTime"] = created
    records = [odd, stream_record(2, "INSERT", new=invoice_image("B", "1", "3"))]
    plan = plan_batch(invoice_spec, event_records({"Records": records}), now=1234.9, fast=fast)
    assert plan.quarantine == [] and sorted(plan.keys) == ["S:A", "S:B"]
    assert plan.keys["S:A"].deltas[0].created_at == 1234
    assert plan.keys["S:A"].deltas[0].numbers["Total"] == 2
