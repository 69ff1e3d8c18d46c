"""Bad data found by an adversarial review: each case crashed, blocked a shard or miscounted."""

from decimal import Decimal

import pytest

from handler.ledger_store import LedgerStore
from handler.planner import plan_batch
from handler.position import position_text
from handler.spec import parse_spec
from handler.types import Delta, KeyPlan
from tests.conftest import invoice_image, stream_record

ORDERS = {"partition_key": "OrderId", "group_by": "Status", "measures": [{"name": "N", "op": "count"}]}


def order(status, order_id="o1"):
    return {"OrderId": {"S": order_id}, "Status": status, "Paid": {"BOOL": True}, "Flag": {"N": "1.00"}}


@pytest.mark.parametrize(
    "status, reason",
    [
        pytest.param({"S": ""}, "0-byte value", id="empty-string"),
        pytest.param({"S": "é" * 1025}, "2050-byte value", id="over-2048-bytes"),
        pytest.param({"B": ""}, "0-byte value", id="empty-binary"),
    ],
)
def test_a_group_value_dynamodb_cannot_key_is_quarantined_not_retried_forever(status, reason):
    record = stream_record(1, "INSERT", new=order(status), keys=("OrderId",))
    plan = plan_batch(parse_spec(ORDERS), [record], now=0)
    assert plan.keys == {} and reason in plan.quarantine[0].reason


def test_a_change_too_wide_for_an_exact_delta_is_quarantined_not_a_crash(invoice_spec):
    old, new = invoice_image("A", "1", "1E-50"), invoice_image("A", "1", "1E+50")
    ok = stream_record(2, "INSERT", new=invoice_image("B", "1", "5"))
    plan = plan_batch(invoice_spec, [stream_record(1, "MODIFY", old=old, new=new), ok], now=0)
    assert [q.position for q in plan.quarantine] == [0] and "38 digits" in plan.quarantine[0].reason
    assert list(plan.keys) == ["S:B"]


def test_filters_match_the_dynamodb_type_not_pythons_equality():
    """In Python True == 1 == Decimal("1.00"); in DynamoDB a BOOL is never a number."""
    spec = parse_spec({**ORDERS, "group_by": "OrderId", "filter": {"attribute": "Paid", "values": [1]}})
    counted = plan_batch(spec, [stream_record(1, "INSERT", new=order({"S": "x"}), keys=("OrderId",))], now=0)
    assert counted.keys == {}, "BOOL true does not equal N 1"
    by_flag = parse_spec({**ORDERS, "group_by": "OrderId", "filter": {"attribute": "Flag", "values": [1]}})
    counted = plan_batch(by_flag, [stream_record(1, "INSERT", new=order({"S": "x"}), keys=("OrderId",))], now=0)
    assert list(counted.keys) == ["S:o1"], "N 1.00 equals N 1"
    by_bool = parse_spec({**ORDERS, "group_by": "OrderId", "filter": {"attribute": "Flag", "values": [True]}})
    assert plan_batch(by_bool, [stream_record(1, "INSERT", new=order({"S": "x"}), keys=("OrderId",))], 0).keys == {}


def test_untyped_values_and_odd_event_names_are_quarantined_not_crashes(invoice_spec):
    untyped = stream_record(1, "INSERT", new=invoice_image("A", "1", "5"))
    untyped["dynamodb"]["NewImage"]["Amount"] = "5"
    listed = stream_record(2, "INSERT", new=invoice_image("A", "2", "5"))
    listed["eventName"] = ["INSERT"]
    plan = plan_batch(invoice_spec, [untyped, listed], now=0)
    assert [q.position for q in plan.quarantine] == [0, 1]
    assert "not a typed attribute value" in plan.quarantine[0].reason and "eventName" in plan.quarantine[1].reason


def test_a_record_without_a_stream_arn_is_quarantined(invoice_spec):
    record = stream_record(1, "INSERT", new=invoice_image("A", "1", "5"))
    del record["eventSourceARN"]
    plan = plan_batch(invoice_spec, [record], now=0)
    assert plan.keys == {} and [q.position for q in plan.quarantine] == [0]
    assert plan.quarantine[0].reason.startswith("not a stream record: Records[0] has no eventSourceARN")


def test_binary_group_and_latest_values_are_written_as_the_bytes_they_encode():
    spec = parse_spec(
        {
            "partition_key": "OrderId",
            "group_by": "Blob",
            "measures": [{"name": "Last", "op": "latest", "attribute": "Blob"}],
        }
    )
    image = {"OrderId": {"S": "o1"}, "Blob": {"B": "AQI="}}
    plan = plan_batch(spec, [stream_record(1, "INSERT", new=image, keys=("OrderId",))], now=0)
    (key,) = plan.keys.values()
    assert key.group_token == "B:AQI=" and key.group_value == {"B": b"\x01\x02"}
    assert key.deltas[0].latest == {"Last": {"B": b"\x01\x02"}}


class FailingFirstChunk:
    """A client whose transactions fail until something outside the handler changes (a permission)."""

    def __init__(self):
        self.calls = 0

    def transact_write_items(self, **request):
        from botocore.exceptions import ClientError

        self.calls += 1
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "TransactWriteItems")


def test_after_a_failed_chunk_the_later_chunks_of_the_key_wait_for_redelivery():
    """Writing them anyway would apply the key's records out of stream order (``latest`` goes back)."""
    deltas = [
        Delta(i, position_text("L", str(100 + i)), f"S:t{i}", 0, {"Total": Decimal(1)}, {"D": {"S": f"d{i}"}})
        for i in range(150)
    ]
    client = FailingFirstChunk()
    outcome = LedgerStore(client, "Agg", "Ledger", "InvoiceNumber").apply(KeyPlan("S:A", {"S": "A"}, deltas))
    assert client.calls == 1 and sorted(outcome.pending) == list(range(150)) and outcome.applied == []


def test_a_modify_whose_own_change_needs_39_digits_is_quarantined_at_plan_time(invoice_spec):
    """1.1 from -(38 nines) is a change of 1E+38 + 0.1: more digits than any write can carry."""
    old, new = invoice_image("A", "1", "-" + "9" * 38), invoice_image("A", "1", "1.1")
    for fast in (True, False):
        plan = plan_batch(invoice_spec, [stream_record(1, "MODIFY", old=old, new=new)], now=0, fast=fast)
        assert plan.keys == {} and "38 digits" in plan.quarantine[0].reason


class Updates:
    def __init__(self):
        self.requests = []

    def update_item(self, **request):
        self.requests.append(request)
        return {}


def test_a_single_source_fold_whose_sum_needs_39_digits_is_written_one_record_at_a_time():
    """Each change fits in 38 digits, their sum does not: 1E-20 and 1E+18."""
    from handler.inline_store import InlineStore

    deltas = [
        Delta(0, position_text("L", "1"), "S:a", 0, {"B": Decimal("1E-20")}, {}),
        Delta(1, position_text("L", "2"), "S:a", 0, {"B": Decimal("1E+18")}, {}),
    ]
    client = Updates()
    outcome = InlineStore(client, "Agg", "AccountId").apply(KeyPlan("S:a", {"S": "a"}, deltas))
    assert outcome.applied == [0, 1] and outcome.error is None and len(client.requests) == 2
