"""A record whose amount the aggregate cannot hold exactly goes to quarantine; the batch succeeds.

Scripted clients, because moto's ADD rounds at 28 digits where DynamoDB refuses past 38 (a quirk):
on moto the refusal this test needs never happens.
"""

import io
import json
from decimal import Decimal

from botocore.exceptions import ClientError

from handler.config import HandlerConfig
from handler.fold import EXACT
from handler.processor import BatchProcessor
from handler.spec import parse_spec
from handler.types import Disposition
from tests.conftest import INVOICE_SPEC, SOURCE_TABLE_ARN, invoice_image, stream_record


class Totals:
    """Keeps each aggregate's Total like DynamoDB, refusing a result beyond 38 digits."""

    def __init__(self):
        self.totals: dict[str, Decimal] = {}

    def transact_write_items(self, **request):
        update = request["TransactItems"][0]["Update"]
        key = update["Key"]["InvoiceNumber"]["S"]
        amount = Decimal(update["ExpressionAttributeValues"][":n0"]["N"])
        total = EXACT.add(self.totals.get(key, Decimal(0)), amount)
        if len(total.normalize(EXACT).as_tuple().digits) > 38:
            reasons = [{"Code": "ValidationError", "Message": "Number precision exceeded"}, {"Code": "None"}]
            error = {"Code": "TransactionCanceledException", "Message": "cancelled"}
            raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")
        self.totals[key] = total
        return {}


class Queue:
    def __init__(self):
        self.bodies = []

    def send_message_batch(self, QueueUrl, Entries):
        self.bodies += [json.loads(entry["MessageBody"]) for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def test_the_record_the_aggregate_cannot_hold_is_quarantined_and_the_rest_applied():
    spec = parse_spec({**INVOICE_SPEC, "measures": INVOICE_SPEC["measures"][:1]})
    config = HandlerConfig(
        spec=spec,
        aggregate_table="Agg",
        quarantine_queue_url="q",
        source_table_arn=SOURCE_TABLE_ARN,
        ledger_table="Ledger",
    )
    dynamodb, queue = Totals(), Queue()
    processor = BatchProcessor(config, dynamodb, queue, log_stream=open("/dev/null", "w"))  # noqa: SIM115
    records = [
        stream_record(1, "INSERT", new=invoice_image("A", "1", "1E+37")),
        stream_record(2, "INSERT", new=invoice_image("A", "2", "1E-37")),
        stream_record(3, "INSERT", new=invoice_image("A", "3", "2")),
    ]
    result = processor.process({"Records": records})
    assert result.response == {"batchItemFailures": []}
    assert dynamodb.totals["A"] == Decimal("10000000000000000000000000000000000002")
    assert [body["sequenceNumber"] for body in queue.bodies] == ["2"]
    assert "refused" in queue.bodies[0]["reason"] and "Number precision exceeded" in queue.bodies[0]["reason"]
    assert result.counters.quarantined == 1 and result.counters.failed_records == 0


def test_each_batch_returns_its_own_result_and_a_later_batch_leaves_it_as_it_was():
    """Nothing of a batch stays on the processor: the result is the caller's, whatever runs after it."""
    config = HandlerConfig(
        spec=parse_spec({**INVOICE_SPEC, "measures": INVOICE_SPEC["measures"][:1]}),
        aggregate_table="Agg",
        quarantine_queue_url="q",
        source_table_arn=SOURCE_TABLE_ARN,
        ledger_table="Ledger",
    )
    processor = BatchProcessor(config, Totals(), Queue(), log_stream=open("/dev/null", "w"))  # noqa: SIM115
    wide = [
        stream_record(1, "INSERT", new=invoice_image("A", "1", "1E+37")),
        stream_record(2, "INSERT", new=invoice_image("A", "2", "1E-37")),
        stream_record(3, "INSERT", new=invoice_image("A", "3", "2")),
    ]
    first = processor.process({"Records": wide})
    second = processor.process({"Records": [stream_record(4, "INSERT", new=invoice_image("B", "1", "5"))]})
    assert first.dispositions == [Disposition.APPLIED, Disposition.QUARANTINED, Disposition.APPLIED]
    assert (first.counters.records, first.counters.quarantined, first.first_error) == (3, 1, None)
    assert second.dispositions == [Disposition.APPLIED]
    assert (second.counters.records, second.counters.quarantined) == (1, 0)
    assert first.response == second.response == {"batchItemFailures": []} and first.covered == second.covered == []


class Refusing:
    """A table that fails every write with an error the handler cannot settle."""

    def transact_write_items(self, **request):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "TransactWriteItems")


def test_every_line_the_handler_writes_takes_the_one_log_path(capsys):
    config = HandlerConfig(
        spec=parse_spec(INVOICE_SPEC),
        aggregate_table="Agg",
        quarantine_queue_url="q",
        source_table_arn=SOURCE_TABLE_ARN,
        ledger_table="L",
        extremes_table_name="E",
    )
    log = io.StringIO()
    processor = BatchProcessor(config, Refusing(), Queue(), log_stream=log)
    response = processor.handle({"Records": [stream_record(1, "INSERT", new=invoice_image("A", "1", "5"))]}, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(line["level"], line["message"]) for line in lines] == [
        ("ERROR", "aggregate write failed"),
        ("INFO", "batch processed"),
    ]
    assert "AccessDeniedException" in lines[0]["error"] and lines[1]["FailedRecords"] == 1
    assert capsys.readouterr().out == "", "nothing bypasses the log stream"


class Unreachable:
    def send_message_batch(self, QueueUrl, Entries):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessageBatch")


def test_a_record_that_is_no_stream_record_is_quarantined_whole_or_fails_the_whole_batch():
    """It has no sequence number to report: if its quarantine message cannot be sent, the response's
    empty itemIdentifier makes Lambda retry the whole batch (nothing lost); sent, the batch goes on."""
    config = HandlerConfig(
        spec=parse_spec({**INVOICE_SPEC, "measures": INVOICE_SPEC["measures"][:1]}),
        aggregate_table="Agg",
        quarantine_queue_url="q",
        source_table_arn=SOURCE_TABLE_ARN,
        ledger_table="L",
    )
    records = [stream_record(1, "INSERT", new=invoice_image("A", "1", "2")), ["not", "a", "record"]]
    quiet = open("/dev/null", "w")  # noqa: SIM115
    totals, queue = Totals(), Queue()
    assert BatchProcessor(config, totals, queue, log_stream=quiet).handle({"Records": records}, None) == {
        "batchItemFailures": []
    }
    assert totals.totals == {"A": Decimal(2)} and queue.bodies[0]["record"] == {"record": ["not", "a", "record"]}
    assert queue.bodies[0]["reason"] == "not a stream record: Records[1] is not an object"
    failing = BatchProcessor(config, Totals(), Unreachable(), log_stream=quiet)
    assert failing.handle({"Records": records}, None) == {"batchItemFailures": [{"itemIdentifier": ""}]}
