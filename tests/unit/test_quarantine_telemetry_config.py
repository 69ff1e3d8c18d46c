import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from handler.config import load_config
from handler.errors import ConfigError
from handler.quarantine import MAX_MESSAGE_BYTES, QuarantineQueue, message_body
from handler.records import decode_record, unreadable_record
from handler.spec import parse_spec
from handler.telemetry import METRIC_NAMES, BatchCounters, summary_line
from handler.types import Quarantined
from tests.conftest import INVOICE_SPEC, invoice_image, stream_record

ROOT = Path(__file__).resolve().parents[2]


def quarantined(position: int, size: int = 0) -> Quarantined:
    image = invoice_image("A", str(position), "1")
    if size:
        image["Blob"] = {"S": "x" * size}
    return Quarantined(position, decode_record(stream_record(position + 1, "INSERT", new=image), position), "bad")


def test_message_keeps_the_whole_record_and_reason():
    item = quarantined(0)
    body = json.loads(message_body(item))
    assert body["record"] == item.record.raw and body["reason"] == "bad" and body["truncated"] is False
    assert body["sequenceNumber"] == "1"


def test_oversized_record_keeps_its_keys():
    body = json.loads(message_body(quarantined(0, size=MAX_MESSAGE_BYTES)))
    assert body["truncated"] is True and "NewImage" not in body["record"]["dynamodb"]
    assert body["record"]["dynamodb"]["Keys"]["InvoiceNumber"] == {"S": "A"}


def test_an_oversized_record_that_is_no_stream_record_is_sent_without_its_dynamodb_part():
    raw = {"eventSource": "aws:dynamodb", "dynamodb": ["x" * MAX_MESSAGE_BYTES], "eventSourceARN": "arn"}
    body = json.loads(message_body(Quarantined(0, unreadable_record(raw), "not a stream record: ...")))
    assert body["truncated"] is True and body["record"] == {**raw, "dynamodb": None}


class FakeSqs:
    def __init__(self, fail_ids=()):
        self.calls = []
        self.fail_ids = set(fail_ids)

    def send_message_batch(self, QueueUrl, Entries):
        self.calls.append(Entries)
        return {"Failed": [{"Id": e["Id"], "Code": "X"} for e in Entries if e["Id"] in self.fail_ids]}


def test_send_batches_by_ten_and_reports_failures():
    sqs = FakeSqs(fail_ids={"3"})
    failed = QuarantineQueue(sqs, "url").send([quarantined(i) for i in range(23)])
    assert [len(c) for c in sqs.calls] == [10, 10, 3]
    assert list(failed) == [3] and "quarantine send failed" in failed[3]


def test_summary_line_is_valid_emf():
    counters = BatchCounters(records=5, writes=2, quarantined=1)
    document = json.loads(summary_line(counters, "invoices", {"requestId": "r"}, now=1.5))
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert document["_aws"]["Timestamp"] == 1500 and directive["Dimensions"] == [["Aggregator"]]
    for metric in directive["Metrics"]:
        assert isinstance(document[metric["Name"]], int), metric
    assert document["Records"] == 5 and document["AggregateWrites"] == 2 and document["QuarantinedRecords"] == 1


def test_config_names_what_is_missing_or_wrong():
    with pytest.raises(ConfigError, match="AGGREGATE_TABLE_NAME, QUARANTINE_QUEUE_URL, SOURCE_TABLE_ARN"):
        load_config({"AGGREGATION_SPEC": "{}"})
    base = dict(VALID_ENVIRONMENT)
    with pytest.raises(ConfigError, match=r"AGGREGATION_SPEC is not a valid aggregation: measures\[0\]\.op"):
        load_config(
            {**base, "AGGREGATION_SPEC": json.dumps({**INVOICE_SPEC, "measures": [{"name": "x", "op": "median"}]})}
        )
    with pytest.raises(ConfigError, match="WRITE_CONCURRENCY"):
        load_config({**base, "AGGREGATION_SPEC": json.dumps(INVOICE_SPEC), "WRITE_CONCURRENCY": "0"})
    config = load_config({**base, "AGGREGATION_SPEC": json.dumps(INVOICE_SPEC)})
    assert config.spec == parse_spec(INVOICE_SPEC) and config.ledger_table == "ledger"
    assert config.extremes_table_name == "extremes"
    assert load_config(config.environment()) == config
    without_ledger = {k: v for k, v in base.items() if k != "LEDGER_TABLE_NAME"}
    with pytest.raises(ConfigError, match="LEDGER_TABLE_NAME must be set"):
        load_config({**without_ledger, "AGGREGATION_SPEC": json.dumps(INVOICE_SPEC)})
    single = {"partition_key": "AccountId", "measures": [{"name": "N", "op": "count"}]}
    assert load_config({**without_ledger, "AGGREGATION_SPEC": json.dumps(single)}).ledger_table is None


VALID_ENVIRONMENT = {
    "AGGREGATE_TABLE_NAME": "totals",
    "QUARANTINE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    "LEDGER_TABLE_NAME": "ledger",
    "EXTREMES_TABLE_NAME": "extremes",
    "SOURCE_TABLE_ARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Invoices",
}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WRITE_CONCURRENCY", "\u00b2"),  # isdigit, but int() refuses it
        ("WRITE_CONCURRENCY", "\u0663"),  # Arabic-Indic 3: int() would read it as 3
        ("WRITE_CONCURRENCY", "9" * 5000),  # past int()'s 4300-digit conversion limit
        ("WRITE_CONCURRENCY", " 8"),
        ("WRITE_CONCURRENCY", "129"),
        ("AGGREGATION_SPEC", "[" * 100_000),  # deeper than json's recursion
        ("AGGREGATION_SPEC", '{"partition_key": ' + "1" * 5000 + "}"),  # an integer past int()'s limit
        ("AGGREGATE_TABLE_NAME", "my table"),
        ("AGGREGATE_TABLE_NAME", "ab"),
        ("LEDGER_TABLE_NAME", "ledger/1"),
        ("QUARANTINE_QUEUE_URL", "quarantine"),
        ("SOURCE_TABLE_ARN", "Invoices"),  # a name: the same name in another region or account is another table
        ("SOURCE_TABLE_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/Invoices/stream/2026-01-01T00:00:00.000"),
        ("SOURCE_TABLE_ARN", "arn:aws:dynamodb:us-east-1:1:table/Invoices"),
        ("AGGREGATOR_NAME", "   "),
        ("AGGREGATOR_NAME", "caf\u00e9"),
        ("AGGREGATOR_NAME", "a" * 1025),
    ],
)
def test_every_variable_is_checked_and_named(variable, value):
    """A bad value fails cold start with a ConfigError naming its variable, never a bare ValueError or
    RecursionError, and never a value the handler reads as something else ("\u0663" as 3)."""
    environment = {**VALID_ENVIRONMENT, "AGGREGATION_SPEC": json.dumps(INVOICE_SPEC), variable: value}
    with pytest.raises(ConfigError, match=variable):
        load_config(environment)


def test_cold_start_fails_with_the_message():
    env = {k: v for k, v in os.environ.items() if k not in ("AGGREGATION_SPEC", "AGGREGATE_TABLE_NAME")}
    result = subprocess.run(
        [sys.executable, "-c", "import handler.main"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "ConfigError: environment variable(s) not set: AGGREGATION_SPEC, AGGREGATE_TABLE_NAME" in result.stderr


def test_lambda_clients_retry_and_time_out_inside_the_invocation(monkeypatch):
    """handler.main builds its processor at import (cold start), so the environment comes first."""
    import importlib

    environment = {
        "AGGREGATION_SPEC": json.dumps(INVOICE_SPEC),
        **VALID_ENVIRONMENT,
    }
    for name, value in {**environment, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    main = importlib.import_module("handler.main")
    client = main.PROCESSOR._store._client
    assert client.meta.config.read_timeout == 10 and client.meta.config.connect_timeout == 3
    assert client.meta.config.retries["total_max_attempts"] == 6  # the first try and 5 retries
    assert client.meta.config.max_pool_connections >= main.PROCESSOR.config.write_concurrency
    assert not _validates_parameters(client)  # DynamoDB validates every request; see writer_config
    assert main.PROCESSOR.config == load_config(environment)


class _Serialized(Exception):
    """Raised by a before-call hook: the request was built, so nothing refused it on the client."""


def _validates_parameters(client: Any) -> bool:
    """Whether the client refuses a malformed request itself: validation runs while the request is
    serialized, before the SDK's before-call event, and nothing is sent either way."""

    def stop(**_: Any) -> None:
        raise _Serialized

    client.meta.events.register("before-call.dynamodb.PutItem", stop)
    try:
        client.put_item(TableName="t", Item={"Id": {"S": 5}})
    except ParamValidationError:
        return True
    except _Serialized:
        return False
    finally:
        client.meta.events.unregister("before-call.dynamodb.PutItem", stop)
    raise AssertionError("the call went out")


def test_the_pure_core_never_loads_botocore():
    """Decode, contribution, fold and plan are pure: a data type imported from a module that calls
    AWS would drag botocore in (and tie the core to it)."""
    pure = ["records", "attributes", "contribution", "fold", "planner", "position", "transaction", "spec"]
    pure += ["config", "types", "fastpath", "telemetry"]
    code = "import sys; " + "; ".join(f"import handler.{name}" for name in pure) + "; print('botocore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_min_max_over_many_items_per_key_needs_the_extremes_table():
    without = {k: v for k, v in VALID_ENVIRONMENT.items() if k != "EXTREMES_TABLE_NAME"}
    assert parse_spec(INVOICE_SPEC).uses_extremes_table
    with pytest.raises(ConfigError, match="EXTREMES_TABLE_NAME must be set"):
        load_config({**without, "AGGREGATION_SPEC": json.dumps(INVOICE_SPEC)})
    with pytest.raises(ConfigError, match="EXTREMES_TABLE_NAME must be a DynamoDB table name"):
        load_config({**without, "AGGREGATION_SPEC": json.dumps(INVOICE_SPEC), "EXTREMES_TABLE_NAME": "x"})
    no_extremes = {**INVOICE_SPEC, "measures": INVOICE_SPEC["measures"][:3]}
    assert load_config({**without, "AGGREGATION_SPEC": json.dumps(no_extremes)}).extremes_table_name is None
    single = {"partition_key": "AccountId", "measures": [{"name": "M", "op": "max", "attribute": "Balance"}]}
    assert load_config({**without, "AGGREGATION_SPEC": json.dumps(single)}).extremes_table_name is None


def test_every_counter_is_a_metric_of_the_summary_line():
    """A counter added without a metric name would never reach CloudWatch: the line carries each, by value."""
    values = {field.name: index + 1 for index, field in enumerate(fields(BatchCounters))}
    document = json.loads(summary_line(BatchCounters(**values), "orders", {}))
    assert {METRIC_NAMES[name]: value for name, value in values.items()} == {
        metric: document[metric] for metric in METRIC_NAMES.values()
    }
