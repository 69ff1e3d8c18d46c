import json

import pytest

from handler.planner import plan_batch
from handler.records import event_records
from handler.types import ReasonKind, reason_kind
from tests.conftest import SOURCE_TABLE_ARN, invoice_image, load_event, stream_record


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


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "general path"])
def test_records_of_another_tables_stream_are_quarantined_and_the_rest_applied(invoice_spec, fast):
    """A second mapping added by hand, a copied trigger: compared by the whole table ARN, since a
    table of the same name in another region or account is another table."""
    elsewhere = [
        SOURCE_TABLE_ARN.replace("table/T", "table/Other"),
        SOURCE_TABLE_ARN.replace("us-east-1", "eu-west-1"),
        SOURCE_TABLE_ARN.replace("123456789012", "444455556666"),
        SOURCE_TABLE_ARN + "x",
    ]
    records = [stream_record(1, "INSERT", new=invoice_image("A", "1", "2"))]
    for sequence, table in enumerate(elsewhere, start=2):
        record = stream_record(sequence, "INSERT", new=invoice_image("B", str(sequence), "7"))
        record["eventSourceARN"] = f"{table}/stream/2026-01-01T00:00:00.000"
        records.append(record)
    not_a_stream = stream_record(9, "INSERT", new=invoice_image("B", "9", "7"))
    not_a_stream["eventSourceARN"] = SOURCE_TABLE_ARN
    renewed = stream_record(1, "INSERT", new=invoice_image("C", "1", "3"))  # the table's stream enabled again
    renewed["eventSourceARN"] = f"{SOURCE_TABLE_ARN}/stream/2027-01-01T00:00:00.000"
    records += [not_a_stream, renewed]
    plan = plan_batch(invoice_spec, records, now=0, fast=fast, source_table_arn=SOURCE_TABLE_ARN)
    assert sorted(plan.keys) == ["S:A", "S:C"]
    assert [q.position for q in plan.quarantine] == [1, 2, 3, 4, 5]
    assert {reason_kind(q.reason) for q in plan.quarantine} == {ReasonKind.FOREIGN_STREAM}
    assert f"not of the source table {SOURCE_TABLE_ARN}" in plan.quarantine[0].reason
    assert "not a DynamoDB stream ARN" in plan.quarantine[4].reason
    assert plan.counters.quarantined == 5 and plan.sequence_numbers == ["1", "2", "3", "4", "5", "9", "1"]


def _odd_records():
    """(name, record) pairs no DynamoDB stream mapping delivers, each wrong in one field."""

    def changed(change):
        record = stream_record(5, "INSERT", new=invoice_image("B", "1", "7"))
        change(record)
        return record

    return [
        ("a list", ["INSERT"]),
        ("a string", "INSERT"),
        ("null", None),
        ("kinesis", changed(lambda r: r.update(eventSource="aws:kinesis"))),
        ("no dynamodb", changed(lambda r: r.pop("dynamodb"))),
        ("dynamodb a list", changed(lambda r: r.update(dynamodb=[]))),
        ("no sequence", changed(lambda r: r["dynamodb"].pop("SequenceNumber"))),
        ("numeric sequence", changed(lambda r: r["dynamodb"].update(SequenceNumber=5))),
        ("superscript sequence", changed(lambda r: r["dynamodb"].update(SequenceNumber="5\u00b2"))),
        ("no stream ARN", changed(lambda r: r.pop("eventSourceARN"))),
        ("numeric stream ARN", changed(lambda r: r.update(eventSourceARN=5))),
        ("unknown eventName", changed(lambda r: r.update(eventName="UPSERT"))),
        ("no eventName", changed(lambda r: r.pop("eventName"))),
        ("no Keys", changed(lambda r: r["dynamodb"].pop("Keys"))),
        ("Keys a list", changed(lambda r: r["dynamodb"].update(Keys=[]))),
        ("untyped key", changed(lambda r: r["dynamodb"]["Keys"].update(InvoiceNumber="B"))),
        ("keys only view", changed(lambda r: r["dynamodb"].update(StreamViewType="KEYS_ONLY", NewImage=None))),
        ("NewImage a string", changed(lambda r: r["dynamodb"].update(NewImage="B"))),
        ("image of another item", changed(lambda r: r["dynamodb"]["NewImage"].update(InvoiceNumber={"S": "Z"}))),
        ("image of another sort key", changed(lambda r: r["dynamodb"]["NewImage"].update(TransactionId={"S": "9"}))),
        ("image without its key", changed(lambda r: r["dynamodb"]["NewImage"].pop("TransactionId"))),
        (
            "old image of another item",
            stream_record(5, "MODIFY", old=invoice_image("Z", "1", "7"), new=invoice_image("B", "1", "7")),
        ),
    ]


ODD_RECORDS = _odd_records()


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "general path"])
@pytest.mark.parametrize(("name", "odd"), ODD_RECORDS, ids=[name for name, _ in ODD_RECORDS])
def test_a_record_of_an_odd_shape_is_quarantined_with_a_reason_and_the_batch_goes_on(invoice_spec, name, odd, fast):
    """One odd record among good ones: never a failed batch (EventShapeError failed the whole invocation
    until bisect isolated it), never counted, always in the quarantine with why."""
    records = [stream_record(1, "INSERT", new=invoice_image("A", "1", "2")), odd]
    records.append(stream_record(9, "INSERT", new=invoice_image("C", "1", "3")))
    plan = plan_batch(invoice_spec, records, now=0, fast=fast, source_table_arn=SOURCE_TABLE_ARN)
    assert sorted(plan.keys) == ["S:A", "S:C"], name
    assert [q.position for q in plan.quarantine] == [1] and ": " in plan.quarantine[0].reason
    assert len(plan.sequence_numbers) == 3 and plan.counters.quarantined == 1
