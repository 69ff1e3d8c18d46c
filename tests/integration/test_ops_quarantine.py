"""`quarantine list | redrive | drop` on moto.

moto quirks worked around here: source items are written with PutItem, and the stream is polled by
ops.local.poller (no event source mapping in moto).
"""

import json
import os
import re
import signal
import time
from decimal import Decimal

import pytest
from rich.console import Console

from handler.quarantine import QuarantineQueue, message_body
from handler.records import decode_record
from handler.spec import parse_spec
from handler.types import Quarantined
from ops.__main__ import main
from ops.local.poller import MappingSettings, StreamPoller
from tests.conftest import (
    INVOICE_SPEC,
    invoice_image,
    make_processor,
    new_aggregator,
    read_aggregates,
    stream_record,
)
from tests.integration.test_cli import ops_argv
from tests.integration.test_ops_replay import queue_depth

pytestmark = pytest.mark.integration

COUNT_ONLY_SPEC = {
    "partition_key": "InvoiceNumber",
    "sort_key": "TransactionId",
    "measures": [
        {"name": "TransactionCount", "op": "count"},
        {"name": "UpdateDate", "op": "latest", "attribute": "InvoiceDate"},
    ],
}
"""The invoice aggregation without its sum: an item lacking Amount is valid under it."""


@pytest.fixture
def invoices(endpoint):
    return new_aggregator(endpoint, parse_spec(INVOICE_SPEC))


def quarantine(endpoint, aggregator, *argv):
    console = Console(record=True, width=260)
    target = ops_argv(endpoint.url, aggregator, ledger=True, quarantine_queue=True)
    code = main(["quarantine", *argv, *target], console)
    return code, console.export_text()


def mapping(endpoint, aggregator, duplicate_rate=0.0):
    """The mapping; with ``duplicate_rate`` 1 every batch comes twice, so bad records are quarantined twice."""
    processor = make_processor(endpoint, aggregator)
    settings = MappingSettings(duplicate_rate=duplicate_rate)
    return StreamPoller(endpoint.client("dynamodbstreams"), aggregator.stream_arn, processor.handle, settings)


def put(endpoint, aggregator, item):
    endpoint.client("dynamodb").put_item(TableName=aggregator.source_table, Item=item)


def bad_amount(invoice, transaction, text="five"):
    item = invoice_image(invoice, transaction, None)
    item["Amount"] = {"S": text}
    return item


def test_list_shows_each_record_once_however_often_it_was_quarantined(endpoint, invoices):
    put(endpoint, invoices, invoice_image("A", "1", "10"))
    put(endpoint, invoices, bad_amount("A", "2"))
    mapping(endpoint, invoices, duplicate_rate=1.0).drain()
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 2
    code, output = quarantine(endpoint, invoices, "list")
    assert code == 0, output
    row = next(line for line in output.splitlines() if "TransactionId=2" in line)
    assert (
        "InvoiceNumber=A" in row and "INSERT" in row and "invalid new image" in row and row.rstrip(" │").endswith("2")
    )
    assert "1 quarantined record(s) in 2 message(s)" in output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 2, "list deletes nothing"


def test_redrive_settles_records_whose_source_item_was_fixed_without_counting_them_again(endpoint, invoices):
    """The fix is the item's own MODIFY, applied with the bad old image counting as nothing: the
    quarantined record must only be deleted. Applying it as well would add its item twice."""
    put(endpoint, invoices, invoice_image("A", "1", "10"))
    put(endpoint, invoices, bad_amount("A", "2"))
    put(endpoint, invoices, bad_amount("B", "1"))
    poller = mapping(endpoint, invoices, duplicate_rate=1.0)
    poller.drain()
    put(endpoint, invoices, invoice_image("A", "2", "5"))  # fixed
    poller.drain()
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["Total"] == Decimal(15)
    code, output = quarantine(endpoint, invoices, "redrive", "--dry-run")
    assert code == 3 and "would delete 2 message(s)" in output, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 4
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3, output  # B/1 is still bad
    fixed = next(line for line in output.splitlines() if "TransactionId=2" in line)
    assert "settled: source fixed" in fixed
    unfixed = next(line for line in output.splitlines() if "InvoiceNumber=B" in line)
    assert "kept" in unfixed and "still invalid" in unfixed
    assert "1 record(s) settled, 1 kept; deleted 2 message(s)" in output
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["Total"] == Decimal(15)
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 2


def test_redrive_applies_a_record_valid_under_a_changed_spec_once(endpoint, invoices, tmp_path):
    """A/2 was an INSERT whose image wrote nothing: under the new spec it is applied, once.

    A/3 was a MODIFY whose valid part (taking the old image away) was applied when it was
    quarantined; its old image counts under the new spec too, and the message cannot say whether
    it was valid (removed) or invalid (never added) then: it is kept, and reconcile fixes its key.
    """
    put(endpoint, invoices, invoice_image("A", "1", "10"))
    missing = invoice_image("A", "2", None)
    put(endpoint, invoices, missing)
    put(endpoint, invoices, invoice_image("A", "3", "5"))
    poller = mapping(endpoint, invoices)
    poller.drain()
    put(endpoint, invoices, invoice_image("A", "3", None))  # loses its Amount
    poller.drain()
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"] == Decimal(1)
    spec = tmp_path / "count.json"
    spec.write_text(json.dumps(COUNT_ONLY_SPEC))
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", str(spec))
    assert code == 3, output
    assert "applied" in next(line for line in output.splitlines() if "TransactionId=2" in line)
    assert "old image counts" in next(line for line in output.splitlines() if "TransactionId=3" in line)
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"] == Decimal(2)
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 1
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", str(spec))
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"] == Decimal(2), "once"
    console = Console(record=True, width=200)
    tables = ["--source-table", invoices.source_table, "--aggregate-table", invoices.aggregate_table]
    assert main(["reconcile", "--repair", "--endpoint-url", endpoint.url, "--spec", str(spec), *tables], console) == 0
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"] == Decimal(3)


def send_quarantined(aggregator, sqs, transaction, created_at, truncated=False):
    record = stream_record(1000 + transaction, "INSERT", new=bad_amount("OLD", str(transaction)), created_at=created_at)
    record["eventSourceARN"] = aggregator.stream_arn
    if truncated:
        del record["dynamodb"]["NewImage"]
    item = Quarantined(0, decode_record(record, 0), "invalid new image: attribute 'Amount' must be a number (N)")
    body = json.loads(message_body(item))
    body["truncated"] = truncated
    sqs.send_message(QueueUrl=aggregator.quarantine_queue_url, MessageBody=json.dumps(body))


def test_drop_deletes_records_older_than_asked_and_lists_them(endpoint, invoices):
    sqs = endpoint.client("sqs")
    now = time.time()
    send_quarantined(invoices, sqs, 1, now - 8 * 86400)
    send_quarantined(invoices, sqs, 2, now - 3600)
    code, output = quarantine(endpoint, invoices, "drop", "--older-than", "7d", "--dry-run")
    assert code == 0 and "would drop" in output and queue_depth(endpoint, invoices.quarantine_queue_url) == 2
    code, output = quarantine(endpoint, invoices, "drop", "--older-than", "7d")
    assert code == 0, output
    assert "TransactionId=1" in output and "TransactionId=2" not in output and "8d0h" in output
    assert "1 record(s) dropped; deleted 1 message(s)" in output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 1


def test_a_truncated_record_is_settled_only_when_the_operator_says_the_item_was_fixed(endpoint, invoices):
    sqs = endpoint.client("sqs")
    send_quarantined(invoices, sqs, 9, time.time(), truncated=True)
    put(endpoint, invoices, invoice_image("OLD", "9", "12"))
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3 and "redrive --source-fixed" in output, output
    code, output = quarantine(endpoint, invoices, "redrive", "--source-fixed")
    assert code == 0 and "settled" in output, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 0


def test_drop_needs_an_age():
    console = Console(record=True, width=200)
    with pytest.raises(SystemExit):
        main(["quarantine", "drop", "--older-than", "7 days"], console)


def test_a_message_the_handler_did_not_write_is_listed_and_kept(endpoint, invoices):
    endpoint.client("sqs").send_message(QueueUrl=invoices.quarantine_queue_url, MessageBody="hello")
    code, output = quarantine(endpoint, invoices, "list")
    assert code == 0 and "unreadable: not JSON" in output
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3 and queue_depth(endpoint, invoices.quarantine_queue_url) == 1


def test_the_quarantine_queue_as_the_handler_fills_it(endpoint, invoices):
    """QuarantineQueue writes the body list and redrive read: the same fields, whatever the handler adds."""
    record = {**stream_record(7, "INSERT", new=bad_amount("Q", "1")), "eventSourceARN": invoices.stream_arn}
    QuarantineQueue(endpoint.client("sqs"), invoices.quarantine_queue_url).send(
        [Quarantined(0, decode_record(record, 0), "bad key: x")]
    )
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3 and "reconcile the key, then drop it" in output


def test_a_record_quarantined_for_a_bad_image_and_for_a_refused_removal_is_kept_for_reconcile(endpoint, invoices):
    """A MODIFY to a bad image whose removal DynamoDB refused is quarantined twice, with two reasons.

    The removal was not applied, so the fix's own record (whose old image, the bad one, counts as
    nothing) leaves the old amount in the total: only reconcile can repair the key, and redrive
    must keep the record (both copies) whichever copy SQS returns first.
    """
    from ops.local.faultproxy import TRANSACT_WRITE_ITEMS, FaultPlan, fault_proxy

    refusing = FaultPlan(targets=frozenset({TRANSACT_WRITE_ITEMS}), refuse_with="ValidationException")
    with fault_proxy(endpoint.url) as proxy:
        processor = make_processor(endpoint, invoices, dynamodb_url=proxy.url)
        poller = StreamPoller(endpoint.client("dynamodbstreams"), invoices.stream_arn, processor.handle)
        put(endpoint, invoices, invoice_image("A", "1", "10"))
        poller.drain()
        put(endpoint, invoices, bad_amount("A", "1"))
        proxy.set_plan(refusing)
        poller.drain()
        assert proxy.counts.refused >= 1
        proxy.set_plan(FaultPlan())
        put(endpoint, invoices, invoice_image("A", "1", "5"))  # fixed
        poller.drain()
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["Total"] == Decimal(15), "10 never removed"
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 2
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3 and "reconcile the key" in output, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 2


def test_an_item_that_came_back_to_a_quarantined_image_is_not_added_once_per_record(endpoint, invoices, tmp_path):
    """A/2 is put without an Amount, deleted, and put again the same: two quarantined INSERTs whose new
    image is the item now, and a REMOVE that (its old image invalid) did nothing. Under a spec that
    makes the image valid, only the last record can be "unchanged since": applying both counts A/2
    twice, since the REMOVE between them is never taken away."""
    spec = came_back_twice(endpoint, invoices, tmp_path)
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", spec)
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"] == Decimal(2), output
    assert code == 3 and "a later record of the item" in output, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 1


def test_a_modify_whose_old_image_was_invalid_too_is_not_applied_under_a_new_spec(endpoint, invoices, tmp_path):
    """A/2 is put without an Amount, then changed (still without one): an INSERT and a MODIFY, both
    quarantined, and neither wrote anything, since both images were invalid. Under a spec that makes
    them valid, applying the MODIFY takes away an old image that was never added: the total misses
    A/2 while redrive says every record was settled."""
    poller = mapping(endpoint, invoices)
    put(endpoint, invoices, invoice_image("A", "1", "10"))
    put(endpoint, invoices, invoice_image("A", "2", None, date="01012026"))
    poller.drain()
    put(endpoint, invoices, invoice_image("A", "2", None, date="02012026"))
    poller.drain()
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 2
    spec = tmp_path / "count.json"
    spec.write_text(json.dumps(COUNT_ONLY_SPEC))
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", str(spec))
    count = read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"]
    assert count == 2 or (code == 3 and "reconcile the key" in output), (count, output)
    console = Console(record=True, width=200)
    tables = ["--source-table", invoices.source_table, "--aggregate-table", invoices.aggregate_table]
    assert main(["reconcile", "--repair", "--endpoint-url", endpoint.url, "--spec", str(spec), *tables], console) == 0
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"] == Decimal(2)


def test_a_record_from_another_tables_stream_is_kept_not_settled_against_this_table(endpoint, invoices):
    """A quarantine queue given with another stack's tables (a --quarantine-queue-url beside the wrong
    --stack-outputs): none of its items is in this source table, so each record looked "deleted
    since" and was settled, and the queue was emptied without anything reconciled."""
    sqs = endpoint.client("sqs")
    record = stream_record(1001, "INSERT", new=bad_amount("OLD", "1"))
    record["eventSourceARN"] = invoices.stream_arn.replace(f"table/{invoices.source_table}/", "table/Other/")
    body = message_body(Quarantined(0, decode_record(record, 0), "invalid new image: attribute 'Amount' is bad"))
    sqs.send_message(QueueUrl=invoices.quarantine_queue_url, MessageBody=body)
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3 and "not of the source table" in output, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 1


def visible_and_hidden(endpoint, queue_url):
    attributes = endpoint.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def fill_quarantine(endpoint, aggregator, count):
    """``count`` records quarantined a minute ago whose items are still bad: every command keeps them."""
    sqs = endpoint.client("sqs")
    for transaction in range(count):
        send_quarantined(aggregator, sqs, transaction, time.time() - 60)
        put(endpoint, aggregator, bad_amount("OLD", str(transaction)))


def interrupt_call(monkeypatch, operation, nth, when=lambda params: True):
    """Ctrl-C landing in the ``nth`` SQS ``operation`` call (matching ``when``), before it is sent."""
    from botocore.client import BaseClient

    original, seen = BaseClient._make_api_call, []

    def interrupted(client, name, params):
        if name == operation and when(params):
            seen.append(name)
            if len(seen) == nth:
                raise KeyboardInterrupt
        return original(client, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", interrupted)


def releasing(params):
    entries = params.get("Entries") or [params]
    return all(entry.get("VisibilityTimeout") == 0 for entry in entries)


@pytest.mark.parametrize("action", [["list"], ["redrive"], ["drop", "--older-than", "7d"]])
@pytest.mark.parametrize("where", ["after-receiving", "between-receives", "during-the-release"])
def test_an_interrupted_command_leaves_every_message_visible(endpoint, invoices, monkeypatch, action, where):
    """Ctrl-C anywhere: after receiving, between two receives, or while the messages are being made visible
    again. Before, every message received stayed hidden for the visibility timeout and the next
    `quarantine list` said "0 quarantined record(s)", exit 0."""
    import ops.quarantine

    fill_quarantine(endpoint, invoices, 14)  # two receive pages, two release batches
    if where == "after-receiving":
        monkeypatch.setattr(ops.quarantine, "merged", lambda messages: (_ for _ in ()).throw(KeyboardInterrupt))
    elif where == "between-receives":
        interrupt_call(monkeypatch, "ReceiveMessage", 2)
    else:
        interrupt_call(monkeypatch, "ChangeMessageVisibility", 1, releasing)
        interrupt_call(monkeypatch, "ChangeMessageVisibilityBatch", 1, releasing)
    code, output = quarantine(endpoint, invoices, *action)
    assert code == 130, output
    assert visible_and_hidden(endpoint, invoices.quarantine_queue_url) == (14, 0)
    monkeypatch.undo()
    code, output = quarantine(endpoint, invoices, "list")
    assert code == 0 and "14 quarantined record(s) in 14 message(s)" in output, output


@pytest.mark.parametrize("action", [["list"], ["redrive"], ["drop", "--older-than", "1m"]])
def test_a_command_refuses_while_another_reader_holds_messages_and_says_how_many_and_when(endpoint, invoices, action):
    """A run killed without its cleanup (SIGKILL) leaves what it received hidden: the rest is not the queue."""
    fill_quarantine(endpoint, invoices, 3)
    sqs = endpoint.client("sqs")
    held = sqs.receive_message(QueueUrl=invoices.quarantine_queue_url, MaxNumberOfMessages=2, VisibilityTimeout=600)
    assert len(held["Messages"]) == 2
    code, output = quarantine(endpoint, invoices, *action)
    assert code == 1 and "the quarantine queue has 2 message(s) in flight" in output, output
    assert "(300 s by default)" in output
    assert visible_and_hidden(endpoint, invoices.quarantine_queue_url) == (1, 2), "nothing received or deleted"


def came_back_twice(endpoint, invoices, tmp_path):
    """A/2 put without an Amount, deleted, put again the same: two quarantined INSERTs of one image."""
    poller = mapping(endpoint, invoices)
    missing = invoice_image("A", "2", None)
    put(endpoint, invoices, invoice_image("A", "1", "10"))
    put(endpoint, invoices, missing)
    poller.drain()
    key = {"InvoiceNumber": {"S": "A"}, "TransactionId": {"S": "2"}}
    endpoint.client("dynamodb").delete_item(TableName=invoices.source_table, Key=key)
    poller.drain()
    put(endpoint, invoices, missing)
    poller.drain()
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 2
    spec = tmp_path / "count.json"
    spec.write_text(json.dumps(COUNT_ONLY_SPEC))
    return str(spec)


def take_newer(endpoint, invoices):
    """Receive both messages, keep the newer record's hidden for 10 minutes; returns it."""
    sqs = endpoint.client("sqs")
    url = invoices.quarantine_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    assert len(messages) == 2
    older, newer = sorted(messages, key=lambda m: int(json.loads(m["Body"])["sequenceNumber"]))
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=older["ReceiptHandle"], VisibilityTimeout=0)
    return newer


def count_of(endpoint, invoices):
    return read_aggregates(endpoint, invoices.aggregate_table)["A"]["TransactionCount"]


def test_redrive_never_applies_a_record_whose_newer_copy_another_reader_holds(endpoint, invoices, tmp_path):
    """The issue's double count: redrive while the newer message is held by another reader, then again.
    Before, the first run applied the older record (it saw no later one) and the second the newer:
    TransactionCount 3 for two items."""
    spec = came_back_twice(endpoint, invoices, tmp_path)
    newer = take_newer(endpoint, invoices)
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", spec)
    assert code == 1 and "1 message(s) in flight" in output, output
    assert count_of(endpoint, invoices) == 1
    endpoint.client("sqs").change_message_visibility(
        QueueUrl=invoices.quarantine_queue_url, ReceiptHandle=newer["ReceiptHandle"], VisibilityTimeout=0
    )
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", spec)
    assert code == 3 and "a later record of the item" in output, output
    assert count_of(endpoint, invoices) == 2
    quarantine(endpoint, invoices, "redrive", "--spec", spec)
    assert count_of(endpoint, invoices) == 2


def test_redrive_applies_nothing_when_a_message_arrives_while_it_runs(endpoint, invoices, tmp_path, monkeypatch):
    """The newer record is quarantined after the run received the queue (here: sent back in just then):
    it cannot be seen, so no record is applied in that run; the next run sees both."""
    import ops.quarantine

    spec = came_back_twice(endpoint, invoices, tmp_path)
    newer = take_newer(endpoint, invoices)
    sqs = endpoint.client("sqs")
    sqs.delete_message(QueueUrl=invoices.quarantine_queue_url, ReceiptHandle=newer["ReceiptHandle"])
    original = ops.quarantine.merged

    def newer_arrives(messages):
        sqs.send_message(QueueUrl=invoices.quarantine_queue_url, MessageBody=newer["Body"])
        return original(messages)

    monkeypatch.setattr(ops.quarantine, "merged", newer_arrives)
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", spec)
    assert code == 3 and "kept: queue changed" in output, output
    assert count_of(endpoint, invoices) == 1
    monkeypatch.setattr(ops.quarantine, "merged", original)
    code, output = quarantine(endpoint, invoices, "redrive", "--spec", spec)
    assert count_of(endpoint, invoices) == 2, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 1


def quarantine_body(aggregator, transaction, created_at, reason, keys=None):
    record = stream_record(1000 + transaction, "INSERT", new=bad_amount("OLD", str(transaction)), created_at=created_at)
    record["eventSourceARN"] = aggregator.stream_arn
    body = json.loads(message_body(Quarantined(0, decode_record(record, 0), reason)))
    if keys is not None:
        body["record"]["dynamodb"]["Keys"] = keys
    return json.dumps(body)


INVALID_IMAGE = "invalid new image: attribute 'Amount' must be a number (N)"


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param("InvoiceNumber=ABC", id="keys-as-text"),
        pytest.param({"InvoiceNumber": "ABC", "TransactionId": "1"}, id="untyped-keys"),
        pytest.param({"InvoiceNumber": {"S": 5}, "TransactionId": {"S": "1"}}, id="S-of-a-number"),
    ],
)
def test_a_malformed_message_is_unreadable_and_kept_and_the_rest_is_redriven(endpoint, invoices, keys):
    """Before: a ValueError or AttributeError traceback, or (``{"S": 5}``) a parameter error aborting the
    whole redrive, so the record beside it whose item was fixed was never settled."""
    sqs = endpoint.client("sqs")
    url = invoices.quarantine_queue_url
    sqs.send_message(
        QueueUrl=url, MessageBody=quarantine_body(invoices, 1, time.time() - 9 * 86400, INVALID_IMAGE, keys)
    )
    sqs.send_message(QueueUrl=url, MessageBody=quarantine_body(invoices, 2, time.time() - 60, INVALID_IMAGE))
    put(endpoint, invoices, invoice_image("OLD", "2", "5"))  # fixed
    code, output = quarantine(endpoint, invoices, "list")
    assert code == 0 and "unreadable: not a quarantine message" in output and "2 quarantined record(s)" in output
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3 and "1 record(s) settled, 1 kept; deleted 1 message(s)" in output, output
    assert "unreadable" in output and visible_and_hidden(endpoint, url) == (1, 0)


def test_drop_shows_every_record_before_deleting_it(endpoint, invoices):
    """A record quarantined for its keys (``Keys`` as text): drop deleted it, then crashed showing it,
    losing the operator's only record of which key needs reconcile."""
    sqs = endpoint.client("sqs")
    body = quarantine_body(invoices, 1, time.time() - 9 * 86400, "bad key: Keys is not an object", "InvoiceNumber=ABC")
    sqs.send_message(QueueUrl=invoices.quarantine_queue_url, MessageBody=body)
    code, output = quarantine(endpoint, invoices, "drop", "--older-than", "7d")
    assert code == 0 and 'Keys "InvoiceNumber=ABC"' in output and "deleted 1 message(s)" in output, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 0


def test_drop_deletes_nothing_it_could_not_show(endpoint, invoices, monkeypatch):
    """Output that fails (a closed pipe: ``drop ... | head -1``) before the list is out deletes nothing."""
    sqs = endpoint.client("sqs")
    sqs.send_message(
        QueueUrl=invoices.quarantine_queue_url, MessageBody=quarantine_body(invoices, 1, 1.0, INVALID_IMAGE)
    )

    def closed_pipe(self, *objects, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(Console, "print", closed_pipe)
    code, _ = quarantine(endpoint, invoices, "drop", "--older-than", "7d")
    monkeypatch.undo()
    assert code != 0
    assert visible_and_hidden(endpoint, invoices.quarantine_queue_url) == (1, 0)


def test_drop_shows_an_unreadable_message_as_it_came_before_deleting_it(endpoint, invoices):
    endpoint.client("sqs").send_message(QueueUrl=invoices.quarantine_queue_url, MessageBody="hello\x1b[2J")
    time.sleep(1.1)  # older than 1s by SentTimestamp, the only age a message nobody can read has
    code, output = quarantine(endpoint, invoices, "drop", "--older-than", "1s")
    assert code == 0 and "(unreadable) as it came: hello\\x1b[2J" in output and "\x1b" not in output, output
    assert queue_depth(endpoint, invoices.quarantine_queue_url) == 0


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        pytest.param({"InvoiceNumber": {"S": "OLD"}}, "no sort key 'TransactionId'", id="no-sort-key"),
        pytest.param({"InvoiceNumber": {"N": "1"}, "TransactionId": {"S": "1"}}, "of type N", id="number-key"),
    ],
)
def test_a_record_whose_keys_name_no_item_of_the_source_table_is_kept_and_the_rest_redriven(
    endpoint, invoices, keys, problem
):
    """Reading the item by such keys is refused by DynamoDB (ValidationException), which ended the run."""
    sqs = endpoint.client("sqs")
    url = invoices.quarantine_queue_url
    sqs.send_message(QueueUrl=url, MessageBody=quarantine_body(invoices, 1, time.time() - 60, INVALID_IMAGE, keys))
    sqs.send_message(QueueUrl=url, MessageBody=quarantine_body(invoices, 2, time.time() - 60, INVALID_IMAGE))
    code, output = quarantine(endpoint, invoices, "redrive")
    assert code == 3 and problem in output and "1 record(s) settled, 1 kept; deleted 1 message(s)" in output, output
    assert visible_and_hidden(endpoint, url) == (1, 0)


HELPED = [["quarantine", "list"], ["quarantine", "redrive"], ["quarantine", "drop"], ["query"]]


class KilledOutright(Exception):
    """What SIGTERM does here when the command does not handle it (the default ends the process)."""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["kill", "terminal-closed"])
def test_a_killed_command_cleans_up_like_ctrl_c(endpoint, invoices, monkeypatch, signum):
    """`kill` (SIGTERM) or a dropped SSH session (SIGHUP) ended the process where it stood: every message
    received stayed hidden for the visibility timeout."""
    import ops.quarantine

    fill_quarantine(endpoint, invoices, 3)
    original = ops.quarantine.merged

    def killed(messages):
        os.kill(os.getpid(), signum)
        return original(messages)

    def outright(signum, frame):
        raise KilledOutright

    monkeypatch.setattr(ops.quarantine, "merged", killed)
    before = signal.signal(signum, outright)
    try:
        code, output = quarantine(endpoint, invoices, "list")
    finally:
        assert signal.signal(signum, before) is outright, "the command put the handler back"
    assert code == 128 + signum, output
    assert visible_and_hidden(endpoint, invoices.quarantine_queue_url) == (3, 0)


@pytest.mark.parametrize("command", HELPED)
def test_help_lists_the_exit_codes(capsys, command):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    help_text = capsys.readouterr().out
    assert "exit codes:" in help_text and "  0: " in help_text and "  1: " in help_text, help_text


def test_list_and_redrive_name_the_aggregates_a_record_counts_toward(endpoint, tmp_path, capsys):
    """edges 4: a row's key is the source item's (the operator fixes that item), but a note saying "reconcile the
    key" needs the aggregate's, and with group_by another attribute than the partition key the source key does
    not tell it. A MODIFY from north (valid) to south (its Amount bad) counts toward both."""
    spec = {**INVOICE_SPEC, "group_by": "Region"}
    regional = new_aggregator(endpoint, parse_spec(spec))
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    put(endpoint, regional, {**invoice_image("A", "1", "5"), "Region": {"S": "north"}})
    put(endpoint, regional, {**bad_amount("A", "1"), "Region": {"S": "south"}})
    put(endpoint, regional, {**bad_amount("B", "1"), "Region": {"S": "west"}})
    mapping(endpoint, regional).drain()
    code, output = quarantine(endpoint, regional, "list", "--spec", str(spec_path))
    assert code == 0 and "2 quarantined record(s)" in output, output
    assert re.search(r"InvoiceNumber=A TransactionId=1\s*│\s*S:north, S:south\s*│\s*MODIFY", output), output
    assert re.search(r"InvoiceNumber=B TransactionId=1\s*│\s*S:west\s*│\s*INSERT", output), output
    target = ops_argv(endpoint.url, regional, ledger=True, quarantine_queue=True)
    capsys.readouterr()
    assert main(["quarantine", "list", "--output", "json", "--spec", str(spec_path), *target]) == 0
    records = json.loads(capsys.readouterr().out)["records"]
    assert {record["key"]: record["aggregate_keys"] for record in records} == {
        "InvoiceNumber=A TransactionId=1": ["S:north", "S:south"],
        "InvoiceNumber=B TransactionId=1": ["S:west"],
    }
    code, output = quarantine(endpoint, regional, "redrive", "--dry-run", "--spec", str(spec_path))
    assert re.search(r"InvoiceNumber=A TransactionId=1\s*│\s*S:north, S:south\s*│", output), output
