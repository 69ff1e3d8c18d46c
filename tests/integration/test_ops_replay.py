"""`replay` end to end on moto: batches fail, reach the failure queue, the cause is fixed, replay.

moto quirks worked around here: source items are written with PutItem; the stream is polled by
ops.local.poller (no event source mapping in moto), whose on-failure payload is Lambda's
documented DDBStreamBatchInfo; moto never trims a stream, so "expired" is either a range the
shard does not hold or the fault proxy answering TrimmedDataAccessException as DynamoDB does.
"""

import json
import random
import re
import shlex
import threading
from contextlib import contextmanager

import pytest
from rich.console import Console

from handler.spec import parse_spec
from ops.__main__ import build_parser, main
from ops.local.faultproxy import GET_SHARD_ITERATOR, FaultPlan, fault_proxy
from ops.local.poller import MappingSettings, StreamPoller
from ops.replay_plan import with_named_keys
from tests.conftest import (
    INVOICE_SPEC,
    assert_invoices_exact,
    drain_queue,
    invoice_image,
    invoice_totals_from_source,
    make_processor,
    new_aggregator,
    read_aggregates,
)
from tests.integration.test_cli import cli, ops_argv
from tests.integration.test_faults import random_workload

pytestmark = pytest.mark.integration


@pytest.fixture
def invoices(endpoint):
    return new_aggregator(endpoint, parse_spec(INVOICE_SPEC))


def replay(endpoint_url, aggregator, *argv):
    console = Console(record=True, width=240)
    target = ops_argv(endpoint_url, aggregator, ledger=True, failure_queue=True, quarantine_queue=True)
    code = main(["replay", *argv, *target], console)
    return code, console.export_text()


def failing_poller(endpoint, aggregator, proxy_url):
    """The mapping, with every aggregate write lost: each batch ends in the failure queue."""
    processor = make_processor(endpoint, aggregator, dynamodb_url=proxy_url, max_attempts=1)
    sqs = endpoint.client("sqs")
    return StreamPoller(
        endpoint.client("dynamodbstreams"),
        aggregator.stream_arn,
        processor.handle,
        MappingSettings(batch_size=10, max_retry_attempts=1),
        on_failure=lambda payload: sqs.send_message(
            QueueUrl=aggregator.failure_queue_url, MessageBody=json.dumps(payload)
        ),
    )


def peek(endpoint, queue_url):
    """The bodies in the queue, left in it (each hidden while reading, then made visible again)."""
    sqs = endpoint.client("sqs")
    seen = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        if not messages.get("Messages"):
            break
        seen += messages["Messages"]
    for message in seen:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return [message["Body"] for message in seen]


def queue_depth(endpoint, queue_url):
    attributes = endpoint.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


@contextmanager
def live_mapping(poller):
    """The mapping polling in the background, as Lambda's does, while the body runs."""
    stop = threading.Event()

    def mapping():
        while not stop.is_set():
            poller.poll_once()

    live = threading.Thread(target=mapping)
    live.start()
    try:
        yield
    finally:
        stop.set()
        live.join()


@contextmanager
def failed_then_fixed(endpoint, aggregator, rng, operations=120):
    """Write with every aggregate write lost, so the batches reach the failure queue; then fix the
    cause. Yields the mapping (its poller), which goes on writing through the now healthy proxy."""
    random_workload(endpoint, aggregator.source_table, rng, operations)
    with fault_proxy(endpoint.url, FaultPlan(lose_rate=1.0)) as proxy:
        poller = failing_poller(endpoint, aggregator, proxy.url)
        stats = poller.drain()
        assert stats.batches_to_failure_destination > 0 and stats.records_to_failure_destination > 0
        proxy.set_plan(FaultPlan())  # the cause is fixed
        yield poller


def new_transactions(endpoint, aggregator, prefix, count, rng):
    """New items on the same few invoices: the same aggregate keys, other source items."""
    dynamodb = endpoint.client("dynamodb")
    for step in range(count):
        amount = f"{rng.randrange(1, 100000) / 100:.2f}"
        item = invoice_image(f"INV-{rng.randrange(6)}", f"{prefix}{step}", amount)
        dynamodb.put_item(TableName=aggregator.source_table, Item=item)


def test_failed_batches_replay_to_exact_totals_and_again_changes_nothing(endpoint, invoices, tmp_path):
    with failed_then_fixed(endpoint, invoices, random.Random(3)) as poller:
        new_transactions(endpoint, invoices, "later-", 40, random.Random(4))  # the mapping goes on
        poller.drain()
    failed = [json.loads(body) for body in peek(endpoint, invoices.failure_queue_url)]
    assert failed and all("DDBStreamBatchInfo" in body for body in failed)
    with pytest.raises(AssertionError):
        assert_invoices_exact(endpoint, invoices)  # the failed batches are missing
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 3 and "min/max drift(s)" in output  # their LargestTransaction entries too

    code, output = replay(endpoint.url, invoices)
    assert code == 0, output
    assert f"{len(failed)} batch(es)" in output and f"deleted {len(failed)} message(s)" in output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 0
    assert_invoices_exact(endpoint, invoices)
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 0 and "min/max" not in output, output  # replay wrote the entries through the handler's engine
    totals = read_aggregates(endpoint, invoices.aggregate_table)

    code, output = replay(endpoint.url, invoices)
    assert code == 0 and "the failure queue is empty" in output
    last = max(failed, key=lambda body: int(body["DDBStreamBatchInfo"]["startSequenceNumber"]))
    message = tmp_path / "failed.json"
    message.write_text(json.dumps(last))
    code, output = replay(endpoint.url, invoices, "--message", str(message))
    assert code == 0 and "skipped: already applied" in output, output
    assert read_aggregates(endpoint, invoices.aggregate_table) == totals

    sqs = endpoint.client("sqs")
    for body in failed:  # every message again: nothing changes (earlier ranges are covered by later ones)
        sqs.send_message(QueueUrl=invoices.failure_queue_url, MessageBody=json.dumps(body))
    code, output = replay(endpoint.url, invoices)
    assert " applied " not in output.split("batch(es):")[-1], output
    assert read_aggregates(endpoint, invoices.aggregate_table) == totals


def test_replay_while_the_mapping_is_live_stays_exact(endpoint, invoices):
    with failed_then_fixed(endpoint, invoices, random.Random(5)) as poller:
        with live_mapping(poller):
            new_transactions(endpoint, invoices, "live-", 60, random.Random(6))  # the same invoices meanwhile
            code, output = replay(endpoint.url, invoices)
        poller.drain()
    assert code == 0, output
    assert_invoices_exact(endpoint, invoices)


def test_records_overtaken_by_a_later_record_of_their_item_name_their_keys_for_reconcile(endpoint, invoices):
    """The mapping gave up on a batch and went on: a later write of an item in it was applied first.

    Its position then covers the batch's record of that item, applied or not; replay cannot tell,
    so it names the key for reconcile and keeps the message.
    """
    dynamodb = endpoint.client("dynamodb")
    dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("INV-1", "x", "10"))
    dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("INV-2", "y", "7"))
    with fault_proxy(endpoint.url, FaultPlan(lose_rate=1.0)) as proxy:
        poller = failing_poller(endpoint, invoices, proxy.url)
        assert poller.drain().batches_to_failure_destination == 1
        proxy.set_plan(FaultPlan())
        dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("INV-1", "x", "25"))
        poller.drain()  # the MODIFY lands first: -10 + 25 on a total that never had the 10
    code, output = replay(endpoint.url, invoices)
    assert code == 3 and "needs reconcile" in output and "S:INV-1" in output, output
    assert "S:INV-2" not in output.split("keys")[-1], "INV-2's record was replayed exactly"
    assert queue_depth(endpoint, invoices.failure_queue_url) == 1
    (command,) = re.findall(r"`python -m ops (reconcile --key [^`]*)`", output)  # pasted as replay prints it
    console = Console(record=True, width=240)
    tables = ["--source-table", invoices.source_table, "--aggregate-table", invoices.aggregate_table]
    tables += ["--extremes-table", invoices.extremes_table]
    code = main([*shlex.split(command), "--repair", "--endpoint-url", endpoint.url, *tables], console)
    output = console.export_text()
    assert code == 0 and "over 1 key(s)" in output and "repaired 1 key(s)" in output, output
    assert_invoices_exact(endpoint, invoices)
    code, output = replay(endpoint.url, invoices, "--drop-unreplayable")
    assert code == 3 and "deleted 1 message(s)" in output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 0


def test_dry_run_changes_nothing(endpoint, invoices):
    with failed_then_fixed(endpoint, invoices, random.Random(7), operations=30):
        pass
    before = read_aggregates(endpoint, invoices.aggregate_table)
    depth = queue_depth(endpoint, invoices.failure_queue_url)
    code, output = replay(endpoint.url, invoices, "--dry-run")
    assert code == 0 and "would replay" in output and "dry run" in output, output
    assert read_aggregates(endpoint, invoices.aggregate_table) == before
    assert queue_depth(endpoint, invoices.failure_queue_url) == depth


def send_failure(endpoint, aggregator, shard_id, start, end, stream_arn=None):
    body = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": str(start),
            "endSequenceNumber": str(end),
            "batchSize": 1,
            "streamArn": stream_arn or aggregator.stream_arn,
        },
    }
    endpoint.client("sqs").send_message(QueueUrl=aggregator.failure_queue_url, MessageBody=json.dumps(body))


def shard_of(endpoint, aggregator):
    description = endpoint.client("dynamodbstreams").describe_stream(StreamArn=aggregator.stream_arn)
    shard = description["StreamDescription"]["Shards"][0]
    return shard["ShardId"], int(shard["SequenceNumberRange"]["StartingSequenceNumber"])


def test_a_range_the_stream_does_not_hold_is_expired_and_names_reconcile(endpoint, invoices):
    endpoint.client("dynamodb").put_item(TableName=invoices.source_table, Item=invoice_image("A", "1", "5"))
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, shard_id, first + 100, first + 120)  # past what the shard holds
    code, output = replay(endpoint.url, invoices)
    assert code == 3, output
    assert "expired" in output and "reconcile" in output and "the shard holds no record" in output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 1, "an expired message is kept"
    code, output = replay(endpoint.url, invoices, "--drop-unreplayable")
    assert code == 3 and "deleted 1 message(s)" in output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 0


@pytest.mark.parametrize(
    "code",
    ["TrimmedDataAccessException", "ResourceNotFoundException"],
    ids=["records-trimmed-from-the-stream", "shard-gone"],
)
def test_a_range_the_stream_no_longer_holds_is_expired_and_kept(endpoint, invoices, code):
    """moto never trims a stream (a quirk): the fault proxy answers as DynamoDB documents instead."""
    endpoint.client("dynamodb").put_item(TableName=invoices.source_table, Item=invoice_image("A", "1", "5"))
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, shard_id, first, first)
    plan = FaultPlan(targets=frozenset({GET_SHARD_ITERATOR}), refuse_with=code)
    with fault_proxy(endpoint.url, plan) as proxy:
        output_code, output = replay(proxy.url, invoices)
        assert proxy.counts.refused == 1
    assert output_code == 3 and "expired" in output and code in output, output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 1
    assert read_aggregates(endpoint, invoices.aggregate_table) == {}


def test_a_batch_that_fails_again_is_kept_and_names_its_records(endpoint, invoices):
    with failed_then_fixed(endpoint, invoices, random.Random(8), operations=20):
        pass
    depth = queue_depth(endpoint, invoices.failure_queue_url)
    with fault_proxy(endpoint.url, FaultPlan(lose_rate=1.0)) as broken:
        code, output = replay(broken.url, invoices)
    assert code == 3 and "failed" in output and "records not applied: InvoiceNumber=INV-" in output, output
    assert queue_depth(endpoint, invoices.failure_queue_url) == depth
    code, output = replay(endpoint.url, invoices)
    assert code == 0, output
    assert_invoices_exact(endpoint, invoices)


def test_bad_records_in_a_replayed_batch_are_quarantined_and_the_message_settles(endpoint, invoices):
    dynamodb = endpoint.client("dynamodb")
    dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("A", "1", "5"))
    bad = invoice_image("A", "2", None)
    bad["Amount"] = {"S": "five"}
    dynamodb.put_item(TableName=invoices.source_table, Item=bad)
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, shard_id, first, first + 1)
    code, output = replay(endpoint.url, invoices)
    assert code == 0 and "applied, some quarantined" in output, output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 0
    quarantined = drain_queue(endpoint, invoices.quarantine_queue_url)
    assert [m["sequenceNumber"] for m in quarantined] == [str(first + 1)]
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["Total"] == 5


def test_messages_it_cannot_use_are_kept(endpoint, invoices):
    sqs = endpoint.client("sqs")
    sqs.send_message(QueueUrl=invoices.failure_queue_url, MessageBody='{"hello": 1}')
    other = invoices.stream_arn.replace(f"table/{invoices.source_table}/", "table/Other/")
    send_failure(endpoint, invoices, "shardId-00000001761989400125-2bac9cd2", 10**21, 10**21, stream_arn=other)
    code, output = replay(endpoint.url, invoices)
    assert code == 3, output
    assert "no DDBStreamBatchInfo" in output and ":table/Other, not of the source table" in output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 2


def test_replay_help_names_the_second_reader(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["replay", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "second reader of the shard" in help_text and "two at once" in help_text


def test_with_aws_the_queues_and_the_ledger_must_be_named(tmp_path):
    """Nothing is assumed against AWS: each missing name is one line, before any request is made."""
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(INVOICE_SPEC))
    argv = ["replay", "--aws", "--source-table", "Src", "--aggregate-table", "Agg", "--spec", str(spec)]
    console = Console(record=True, width=300)
    assert main(argv, console) == 1
    assert "with --aws, give --failure-queue-url" in console.export_text()
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/failures"
    console = Console(record=True, width=300)
    assert main([*argv, "--failure-queue-url", queue], console) == 1
    assert "give --ledger-table" in console.export_text()


def visible_and_hidden(endpoint, queue_url):
    attributes = endpoint.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_an_interrupted_replay_leaves_every_unsettled_message_visible_and_a_rerun_is_exact(
    endpoint, invoices, monkeypatch
):
    """Ctrl-C in the middle: what was settled is deleted, everything else is visible again at once,
    so the next run sees it (not "the failure queue is empty" for the next 15 minutes)."""
    import ops.replay

    with failed_then_fixed(endpoint, invoices, random.Random(9), operations=40):
        pass
    depth = queue_depth(endpoint, invoices.failure_queue_url)
    assert depth >= 3
    original, calls = ops.replay._replay, []

    def interrupted_on_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(ops.replay, "_replay", interrupted_on_the_second)
    code, output = replay(endpoint.url, invoices)
    assert code == 130, output
    assert visible_and_hidden(endpoint, invoices.failure_queue_url) == (depth - 1, 0)
    monkeypatch.setattr(ops.replay, "_replay", original)
    code, output = replay(endpoint.url, invoices)
    assert code == 0 and f"{depth - 1} batch(es)" in output, output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 0
    assert_invoices_exact(endpoint, invoices)


@pytest.mark.parametrize(
    "foreign",
    [
        pytest.param(lambda arn: arn.replace(":us-east-1:", ":eu-west-1:"), id="same-name-other-region"),
        pytest.param(lambda arn: arn.replace(":123456789012:", ":210987654321:"), id="same-name-other-account"),
    ],
)
def test_a_batch_of_a_same_named_table_elsewhere_is_refused_not_replayed_here(endpoint, invoices, foreign):
    """Names repeat across regions and accounts (a global table, a stack per account): the stream must
    belong to this very table. moto ignores the region and account of a stream ARN and would serve
    this table's records; AWS would not find the stream in this region, which replay took for
    "expired", sending the operator to reconcile the wrong table and drop the message."""
    endpoint.client("dynamodb").put_item(TableName=invoices.source_table, Item=invoice_image("A", "1", "5"))
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, shard_id, first, first, stream_arn=foreign(invoices.stream_arn))
    code, output = replay(endpoint.url, invoices)
    assert code == 3 and "not of the source table" in output, output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 1
    assert read_aggregates(endpoint, invoices.aggregate_table) == {}


def test_a_message_whose_shard_id_aws_would_refuse_is_kept_and_the_rest_replayed(endpoint, invoices):
    """DynamoDB Streams' ShardId is 28 to 65 characters and a sequence number 21 to 40 digits: the SDK
    refuses others before sending, which aborted the whole run at that message."""
    dynamodb = endpoint.client("dynamodb")
    dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("A", "1", "5"))
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, "shardId-1", first, first)
    send_failure(endpoint, invoices, shard_id, 10, 20)
    send_failure(endpoint, invoices, shard_id, first, first)
    code, output = replay(endpoint.url, invoices)
    assert code == 3 and "shardId is not a shard ID" in output and "is not a sequence number" in output, output
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["Total"] == 5
    assert queue_depth(endpoint, invoices.failure_queue_url) == 2


def replay_run(endpoint_url, aggregator):
    """``run_replay`` itself, for the reports (the keys named for reconcile)."""
    from ops.replay import run_replay
    from ops.targets import resolve_target

    argv = ["replay", *ops_argv(endpoint_url, aggregator, ledger=True, failure_queue=True, quarantine_queue=True)]
    return run_replay(resolve_target(build_parser().parse_args(argv)), Console(record=True, width=240))


def test_permissions_broken_then_fixed_replay_beside_the_live_mapping_leaves_drift_only_where_it_says(
    endpoint, invoices
):
    """The aggregate writes are refused (AccessDeniedException, a role that lost its permission) until
    every batch reaches the failure queue; meanwhile and after the fix the same items are written
    again, and the mapping (live throughout the replay) applies those later records first. Replay
    must leave the aggregates equal to a recomputation from the source table on every key it does
    not name for reconcile, and replaying again must change nothing."""
    rng = random.Random(11)
    random_workload(endpoint, invoices.source_table, rng, 150)
    denied = FaultPlan(refuse_with="AccessDeniedException")
    with fault_proxy(endpoint.url, denied) as proxy:
        poller = failing_poller(endpoint, invoices, proxy.url)
        assert poller.drain().batches_to_failure_destination > 0
        random_workload(endpoint, invoices.source_table, rng, 60)  # still broken: more batches given up
        poller.drain()
        assert proxy.counts.refused > 0
        proxy.set_plan(FaultPlan())  # the permission is back
        with live_mapping(poller):
            random_workload(endpoint, invoices.source_table, rng, 80)  # overwrites items of the failed ranges
            first = replay_run(endpoint.url, invoices)
        poller.drain()
    assert all(report.outcome.settled or report.overtaken for report in first.reports), first.reports
    named = {key.removeprefix("S:") for report in first.reports for key in report.overtaken}
    actual = read_aggregates(endpoint, invoices.aggregate_table)
    expected = invoice_totals_from_source(endpoint, invoices.source_table)
    zero = {"Total": 0, "TransactionCount": 0}
    drifted = {
        invoice
        for invoice in set(actual) | set(expected)
        if {k: actual.get(invoice, zero)[k] for k in zero} != {k: expected.get(invoice, zero)[k] for k in zero}
    }
    assert drifted <= named, f"drift on keys replay did not name: {drifted - named}"
    totals = read_aggregates(endpoint, invoices.aggregate_table)
    again = replay_run(endpoint.url, invoices)
    assert read_aggregates(endpoint, invoices.aggregate_table) == totals
    assert all(report.outcome.value in ("skipped: already applied", "needs reconcile") for report in again.reports)
    again_named = {key.removeprefix("S:") for report in again.reports for key in report.overtaken}
    assert again_named <= named, f"a rerun named keys the first run applied: {again_named - named}"
    console = Console(record=True, width=240)
    tables = ["--source-table", invoices.source_table, "--aggregate-table", invoices.aggregate_table]
    tables += ["--extremes-table", invoices.extremes_table]
    assert main(["reconcile", "--repair", "--endpoint-url", endpoint.url, *tables], console) == 0
    assert_invoices_exact(endpoint, invoices)


def test_messages_hidden_by_a_run_that_died_are_not_reported_as_an_empty_queue(endpoint, invoices):
    """A run killed without its cleanup (SIGKILL, a dropped SSH session: SIGHUP) leaves its messages
    hidden for the visibility timeout. The next run sees none of them: "the failure queue is empty"
    with exit 0 would close the incident while they are still to replay."""
    with failed_then_fixed(endpoint, invoices, random.Random(12), operations=20):
        pass
    sqs = endpoint.client("sqs")
    held = sqs.receive_message(QueueUrl=invoices.failure_queue_url, MaxNumberOfMessages=1, VisibilityTimeout=600)
    assert held.get("Messages")  # what the dead run had received (here one; the rest is visible)
    code, output = replay(endpoint.url, invoices)
    assert code == 1 and "1 message(s) in flight" in output, output
    assert visible_and_hidden(endpoint, invoices.failure_queue_url)[1] == 1, "the visible ones untouched"
    sqs.change_message_visibility(  # it comes back
        QueueUrl=invoices.failure_queue_url, ReceiptHandle=held["Messages"][0]["ReceiptHandle"], VisibilityTimeout=0
    )
    code, output = replay(endpoint.url, invoices)
    assert code == 0, output
    assert_invoices_exact(endpoint, invoices)


def stream_sequences(endpoint, aggregator):
    streams = endpoint.client("dynamodbstreams")
    shard_id, _ = shard_of(endpoint, aggregator)
    iterator = streams.get_shard_iterator(
        StreamArn=aggregator.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return shard_id, [int(record["dynamodb"]["SequenceNumber"]) for record in records]


def test_overlapping_and_repeated_ranges_apply_each_record_once(endpoint, invoices):
    """Nothing was applied; the queue names [0..2] twice and [1..3] (overlapping): each record once."""
    dynamodb = endpoint.client("dynamodb")
    for item in (
        invoice_image("A", "1", "5"),
        invoice_image("B", "1", "7"),
        invoice_image("A", "1", "9"),
        invoice_image("C", "1", "3"),
    ):
        dynamodb.put_item(TableName=invoices.source_table, Item=item)
    shard_id, sequences = stream_sequences(endpoint, invoices)
    assert len(sequences) == 4
    send_failure(endpoint, invoices, shard_id, sequences[1], sequences[3])
    send_failure(endpoint, invoices, shard_id, sequences[0], sequences[2])
    send_failure(endpoint, invoices, shard_id, sequences[0], sequences[2])
    code, output = replay(endpoint.url, invoices)
    assert code == 0 and "2 batch(es)" in output and "deleted 3 message(s)" in output, output
    assert_invoices_exact(endpoint, invoices)
    assert read_aggregates(endpoint, invoices.aggregate_table)["A"]["Total"] == 9


SINGLE_SOURCE_SPEC = {"partition_key": "Account", "measures": [{"name": "Balance", "op": "sum", "attribute": "Amount"}]}


def test_single_source_replay_is_exact_and_names_an_overtaken_key(endpoint, tmp_path, capsys):
    """The inline position (no ledger): a failed batch replays exactly, and one whose item was
    written again and applied first is named for reconcile, as it is: the CLI's console showed
    "S:a:" as an emoji (rich's :a: code), as it would "S:new:" or "S:ok:"."""
    aggregator = new_aggregator(endpoint, parse_spec(SINGLE_SOURCE_SPEC))
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SINGLE_SOURCE_SPEC))
    dynamodb = endpoint.client("dynamodb")

    def account(name, amount):
        dynamodb.put_item(TableName=aggregator.source_table, Item={"Account": {"S": name}, "Amount": {"N": amount}})

    account("a", "10")
    account("b", "7")
    with fault_proxy(endpoint.url, FaultPlan(lose_rate=1.0)) as proxy:
        poller = failing_poller(endpoint, aggregator, proxy.url)
        assert poller.drain().batches_to_failure_destination == 1
        proxy.set_plan(FaultPlan())
        account("a", "25")
        poller.drain()  # a's MODIFY lands first: -10 + 25 on a balance that never had the 10
    argv = ["--spec", str(spec), "--ledger-table", "unused"]
    target = ops_argv(endpoint.url, aggregator, failure_queue=True, quarantine_queue=True)
    code = main(["replay", *argv, *target])  # the operator's own console
    output = capsys.readouterr().out
    assert code == 3 and "needs reconcile" in output and "keys S:a:" in output, output
    balances = read_aggregates(endpoint, aggregator.aggregate_table, group_by="Account")
    assert balances["b"]["Balance"] == 7, "b's record was replayed exactly"


def test_a_rerun_names_no_key_its_own_earlier_run_applied(endpoint, invoices):
    """Issue 17 item 4: two batches given up on, X in both; K's later record applied first. The first run
    names K (overtaken) and keeps that message, and applies the second batch, X's later record with it.
    A rerun then found X's record in the kept range covered by that later position and named X too,
    though the first run had applied both of X's records in order."""
    dynamodb = endpoint.client("dynamodb")
    with fault_proxy(endpoint.url, FaultPlan(lose_rate=1.0)) as proxy:
        poller = failing_poller(endpoint, invoices, proxy.url)
        dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("INV-X", "1", "5"))
        dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("INV-K", "1", "10"))
        assert poller.drain().batches_to_failure_destination == 1
        dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("INV-X", "1", "7"))
        assert poller.drain().batches_to_failure_destination == 2  # the poller's counts add up
        proxy.set_plan(FaultPlan())
        dynamodb.put_item(TableName=invoices.source_table, Item=invoice_image("INV-K", "1", "25"))
        poller.drain()  # K's MODIFY lands first
    code, output = replay(endpoint.url, invoices)
    assert code == 3 and "1 applied, 1 needs reconcile" in output and "keys S:INV-K:" in output, output
    assert read_aggregates(endpoint, invoices.aggregate_table)["INV-X"]["Total"] == 7
    totals = read_aggregates(endpoint, invoices.aggregate_table)
    assert queue_depth(endpoint, invoices.failure_queue_url) == 1
    code, output = replay(endpoint.url, invoices)
    assert code == 3 and "1 needs reconcile" in output and "keys S:INV-K:" in output, output
    assert read_aggregates(endpoint, invoices.aggregate_table) == totals
    assert queue_depth(endpoint, invoices.failure_queue_url) == 1


def test_drop_unreplayable_says_it_deleted_what_it_deleted(endpoint, invoices):
    """Issue 17 item 4: the note of a message --drop-unreplayable deleted said "the message is kept"."""
    endpoint.client("dynamodb").put_item(TableName=invoices.source_table, Item=invoice_image("A", "1", "5"))
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, shard_id, first + 100, first + 120)  # past what the shard holds: expired
    code, output = replay(endpoint.url, invoices, "--drop-unreplayable")
    assert code == 3 and "deleted 1 message(s)" in output and queue_depth(endpoint, invoices.failure_queue_url) == 0
    assert "kept" not in output and "the message was deleted (--drop-unreplayable)" in output, output


def test_a_range_an_earlier_run_read_whole_still_names_its_keys_once_the_stream_no_longer_holds_it(endpoint, invoices):
    """The keys written into a kept message are what it needs; "expired: the message names no keys" would
    send the operator to reconcile the whole table for a message that names them."""
    endpoint.client("dynamodb").put_item(TableName=invoices.source_table, Item=invoice_image("A", "1", "5"))
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, shard_id, first + 100, first + 120)  # past what the shard holds
    (body,) = peek(endpoint, invoices.failure_queue_url)
    drain_queue(endpoint, invoices.failure_queue_url)
    endpoint.client("sqs").send_message(
        QueueUrl=invoices.failure_queue_url, MessageBody=with_named_keys(body, {"S:INV-9"})
    )
    code, output = replay(endpoint.url, invoices)
    assert code == 3 and "1 needs reconcile" in output and "--key S:INV-9" in output and "expired" not in output
    assert queue_depth(endpoint, invoices.failure_queue_url) == 1


def test_replay_with_a_wrong_extremes_table_is_one_line_before_anything_is_read(endpoint, invoices):
    """The engine would write every batch's min/max entries there: each transaction failing, each batch told as
    failed. The table is checked first instead."""
    with failed_then_fixed(endpoint, invoices, random.Random(6)) as poller:
        poller.drain()
    depth = queue_depth(endpoint, invoices.failure_queue_url)
    console = Console(record=True, width=240)
    target = ops_argv(endpoint.url, invoices, ledger=True, failure_queue=True, quarantine_queue=True)
    code = main(["replay", *target, "--extremes-table", "nope"], console)  # the last one given is taken
    output = console.export_text()
    assert code == 1 and output.strip() == (
        "error: extremes table nope does not exist: give --extremes-table, or --stack-outputs from a stack that "
        "exports 'extremes_table_name'"
    ), output
    assert depth and queue_depth(endpoint, invoices.failure_queue_url) == depth
