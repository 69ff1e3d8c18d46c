"""The hot-key endpoint's rules, without sockets or clocks: the lock table, the items a request names,
and the conflict answers read back through botocore's own parser, as the handler's client reads them.

The answers go to a real client (the Lambda's settings: standard retry mode) through botocore's
``before-send`` hook, which stands in for the HTTP response, so the parsing, the exception class and
the SDK's decision not to retry are botocore's, not restated here.
"""

import json
from types import SimpleNamespace

import botocore.endpoint
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

from benchmarks.hot_key import SdkCounts
from benchmarks.hot_key_endpoint import Stats
from benchmarks.hot_key_locks import (
    Decision,
    Holder,
    LockTable,
    Verdict,
    conflict_body,
    item_id,
    operation_item,
    transaction_items,
)
from handler.processor import lambda_config
from handler.transaction import read_cancellation
from ops.local.forwarding import cancellation_body

A = item_id("Agg", {"InvoiceNumber": {"S": "INV-1"}})
B = item_id("Ledger", {"id": {"S": "e1"}})
C = item_id("Ledger", {"id": {"S": "e2"}})


def test_a_transaction_takes_all_its_items_or_none():
    locks = LockTable()
    assert locks.try_acquire([A, B], Holder.TRANSACTION).verdict is Verdict.GRANTED
    lost = locks.try_acquire([C, A], Holder.TRANSACTION)
    assert lost == Decision(Verdict.CONFLICT, (1,)), "the conflict names the held item's action"
    assert C not in locks.held, "the loser holds nothing"
    assert locks.try_acquire([C], Holder.TRANSACTION).verdict is Verdict.GRANTED
    locks.release([A, B])
    assert locks.try_acquire([A, B], Holder.TRANSACTION).verdict is Verdict.GRANTED
    assert locks.held == {A: Holder.TRANSACTION, B: Holder.TRANSACTION, C: Holder.TRANSACTION}


def test_every_held_item_of_a_transaction_is_named():
    locks = LockTable()
    locks.try_acquire([A, C], Holder.TRANSACTION)
    assert locks.try_acquire([B, C, A], Holder.TRANSACTION).conflicting == (1, 2)


def test_a_single_write_loses_to_a_transaction_and_waits_for_another_single_write():
    locks = LockTable()
    locks.try_acquire([A], Holder.TRANSACTION)
    assert locks.try_acquire([A], Holder.SINGLE).verdict is Verdict.CONFLICT
    locks.try_acquire([B], Holder.SINGLE)
    assert locks.try_acquire([B], Holder.SINGLE).verdict is Verdict.WAIT
    assert locks.try_acquire([C, B], Holder.TRANSACTION).verdict is Verdict.WAIT, "no ongoing transaction holds B"
    assert C not in locks.held
    locks.release([B])
    assert locks.try_acquire([C, B], Holder.TRANSACTION).verdict is Verdict.GRANTED


def test_the_items_a_transaction_names_in_request_order():
    body = {
        "TransactItems": [
            {"Update": {"TableName": "Agg", "Key": {"InvoiceNumber": {"S": "INV-1"}}, "UpdateExpression": "x"}},
            {"Put": {"TableName": "Ledger", "Item": {"position": {"S": "p"}, "id": {"S": "e1"}}}},
            {"Delete": {"TableName": "Ledger", "Key": {"id": {"S": "e2"}}}},
            {"ConditionCheck": {"TableName": "Agg", "Key": {"InvoiceNumber": {"S": "INV-2"}}}},
        ]
    }
    key_names = {"Agg": ["InvoiceNumber"], "Ledger": ["id"]}.__getitem__
    assert transaction_items(body, key_names) == [A, B, C, item_id("Agg", {"InvoiceNumber": {"S": "INV-2"}})]


def test_one_item_whatever_the_order_of_its_key_attributes():
    key_names = {"T": ["pk", "sk"]}.__getitem__
    first = operation_item({"TableName": "T", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}, key_names)
    second = operation_item(
        {"TableName": "T", "Item": {"sk": {"N": "1"}, "v": {"N": "2"}, "pk": {"S": "a"}}}, key_names
    )
    assert first == second
    assert first != operation_item({"TableName": "T", "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}}, key_names)


class _Body:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


class Canned:
    """Answers a client's requests in turn from ``answers`` (status, body), through ``before-send``."""

    def __init__(self, client, *answers):
        self.answers = list(answers)
        client.meta.events.register("before-send.dynamodb", self)

    def __call__(self, request, **_):
        status, body = self.answers.pop(0)
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "r"}
        return AWSResponse(request.url, status, headers, _Body(body))


@pytest.fixture
def client():
    session = botocore.session.get_session()
    return session.create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=lambda_config(4),
    )


UPDATE = {"TableName": "Agg", "Key": {"InvoiceNumber": {"S": "INV-1"}}, "UpdateExpression": "ADD #t :v"}
LEDGER = {"TableName": "Ledger", "Key": {"id": {"S": "e1"}}, "UpdateExpression": "SET #p = :p"}


def test_a_cancelled_transaction_reaches_the_handler_as_dynamodb_documents_it(client):
    counts = SdkCounts()
    counts.watch(client)
    Canned(client, (400, cancellation_body(2, [0])))
    with pytest.raises(client.exceptions.TransactionCanceledException) as raised:
        client.transact_write_items(TransactItems=[{"Update": UPDATE}, {"Update": LEDGER}])
    response = raised.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item."},
        {"Code": "None"},
    ], "one reason per action, in request order (API reference, CancellationReason)"
    assert "[TransactionConflict, None]" in response["Error"]["Message"]
    # the handler reads it as a conflict to pause and retry: nothing stored, unread or in error
    cancellation = read_cancellation(response["CancellationReasons"], [None, "e1"])
    assert (cancellation.stored, cancellation.unread, cancellation.error) == ({}, [], None)
    assert (counts.calls, counts.retries) == (1, 0), "standard retry mode does not retry it"


def test_a_single_write_that_meets_a_transaction_gets_transaction_conflict_exception(client):
    counts = SdkCounts()
    counts.watch(client)
    Canned(client, (400, conflict_body()))
    with pytest.raises(client.exceptions.TransactionConflictException) as raised:
        client.update_item(**UPDATE)
    assert raised.value.response["Error"]["Message"] == "Transaction is ongoing for the item."
    assert counts.retries == 0, "standard retry mode does not retry it either"


def test_sdk_retries_are_counted_apart_from_calls(client, monkeypatch):
    # botocore pauses before a retry; the test skips the pause, not the retry
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda seconds: None))
    counts = SdkCounts()
    counts.watch(client)
    error = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "x"}).encode()
    Canned(client, (500, error), (500, error), (200, b"{}"))
    client.update_item(**UPDATE)
    assert (counts.calls, counts.retries) == (1, 2)


def test_the_cancellation_blames_only_the_held_items():
    body = json.loads(cancellation_body(3, [2]))
    assert [reason["Code"] for reason in body["CancellationReasons"]] == ["None", "None", "TransactionConflict"]
    assert body["__type"].endswith("#TransactionCanceledException")


def test_counts_since_an_earlier_reading():
    later = Stats(committed=5, cancelled=3, holds=5, held_seconds=1.5, moto_seconds=1.0)
    earlier = Stats(committed=2, cancelled=1, holds=2, held_seconds=0.5, moto_seconds=0.25)
    assert later.since(earlier) == Stats(committed=3, cancelled=2, holds=3, held_seconds=1.0, moto_seconds=0.75)
