"""Shared fixtures: events on disk, record factories, the invoice spec and a moto server."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ops.queue
from aggregations import INVOICE_AGGREGATION
from handler.processor import BatchProcessor
from handler.records import StreamRecord, decode_record, event_records
from handler.spec import AggregationSpec, parse_spec
from ops.local.emulator import moto_server
from ops.local.local_resources import LocalAggregator, create_local_aggregator
from ops.targets import Endpoint

EVENTS = Path(__file__).parent / "events"
SHARED_EVENTS = Path(
    os.environ.get("AWS_EVENT_FIXTURES") or Path(__file__).resolve().parents[1].parent / "shared/fixtures/aws-events"
)
"""Real Lambda events written by others: kept outside this repository, beside it in CI."""

INVOICE_SPEC: dict[str, Any] = INVOICE_AGGREGATION

SOURCE_TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/T"
"""The table the records of ``stream_record`` come from: a handler reading them is configured with it."""


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def decode_event(event: Any) -> list[StreamRecord]:
    """Every record of ``event`` wrapped, with the checks the handler makes on the event and on each record.

    Raises ``EventShapeError`` for anything but a ``{"Records": [...]}`` batch of DynamoDB stream records.
    """
    return [decode_record(record, index) for index, record in enumerate(event_records(event))]


@pytest.fixture(scope="session")
def shared_events() -> Path:
    """The third-party events, or a skip that says where they were looked for and why they are not here.

    ``.ci/run`` sets REQUIRE_AWS_EVENT_FIXTURES when the folder is beside the checkout, so CI fails
    rather than skips if they ever go missing.
    """
    if not any(SHARED_EVENTS.glob("*.json")):
        message = (
            f"third-party Lambda events not found at {SHARED_EVENTS}: they are others' work, kept outside this "
            "repository (../shared/fixtures/aws-events beside it, or AWS_EVENT_FIXTURES naming another copy)"
        )
        if os.environ.get("REQUIRE_AWS_EVENT_FIXTURES"):
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_EVENTS


@pytest.fixture
def invoice_spec() -> AggregationSpec:
    return parse_spec(INVOICE_SPEC)


def invoice_image(invoice: str, transaction: str, amount: str | None, date: str = "06062016") -> dict[str, Any]:
    image: dict[str, Any] = {
        "InvoiceNumber": {"S": invoice},
        "TransactionId": {"S": transaction},
        "InvoiceDate": {"S": date},
    }
    if amount is not None:
        image["Amount"] = {"N": amount}
    return image


def stream_record(
    sequence: int,
    event_name: str,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    keys: tuple[str, ...] = ("InvoiceNumber", "TransactionId"),
    ttl: bool = False,
    created_at: float | None = None,
) -> dict[str, Any]:
    """A stream record in Lambda's event format, created now unless told otherwise.

    The creation time matters: it sets when the item's ledger entry may expire.
    """
    image = new or old or {}
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": time.time() if created_at is None else created_at,
        "Keys": {name: image[name] for name in keys if name in image},
        "SequenceNumber": str(sequence),
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = new
    if old is not None:
        body["OldImage"] = old
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": f"{SOURCE_TABLE_ARN}/stream/2026-01-01T00:00:00.000",
    }
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


@dataclass
class TableHistory:
    """A source table changed step by step, and the stream records DynamoDB writes for it: one per
    change (INSERT, MODIFY or REMOVE; deleting an absent item writes none), numbered in step order."""

    keys: tuple[str, ...]
    table: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)

    def change(self, step: int, kind: str, image: dict[str, Any]) -> None:
        """``kind`` "put" writes ``image``; "delete" removes the item whose keys ``image`` holds."""
        sequence = 10**20 + step
        item = tuple(image[name]["S"] for name in self.keys)
        old = self.table.get(item)
        if kind == "delete":
            if old is not None:
                self.records.append(stream_record(sequence, "REMOVE", old=old, keys=self.keys))
                del self.table[item]
            return
        self.table[item] = image
        event = "MODIFY" if old else "INSERT"
        self.records.append(stream_record(sequence, event, new=image, old=old, keys=self.keys))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[Endpoint]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def endpoint(moto_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    """The shared server, emptied after each test (moto's memory only shrinks on reset).

    The operator's queue reader ends with a one-second long poll, because real SQS answers a short poll
    from a sample of its servers. moto answers from one store, so its empty short poll is already the
    whole queue: the in-process commands poll without waiting here, which saves a second per command.
    """
    monkeypatch.setattr(ops.queue, "RECEIVE_WAIT_SECONDS", 0)
    yield moto_endpoint
    moto_endpoint.reset()


def make_processor(
    endpoint: Endpoint,
    aggregator: LocalAggregator,
    dynamodb_url: str | None = None,
    max_attempts: int = 3,
    log_stream: Any = None,
    source_table_arn: str | None = None,
) -> BatchProcessor:
    """A processor whose DynamoDB client may go through a fault proxy at ``dynamodb_url``.

    It takes the records of the aggregator's own source table, as the component configures it;
    ``source_table_arn=SOURCE_TABLE_ARN`` for the records ``stream_record`` makes up instead."""
    from dataclasses import replace

    from botocore.config import Config

    client_config = Config(retries={"mode": "standard", "max_attempts": max_attempts}, max_pool_connections=20)
    dynamodb = Endpoint(dynamodb_url or endpoint.url).client("dynamodb", config=client_config)
    config = aggregator.handler_config("test")
    return BatchProcessor(
        replace(config, source_table_arn=source_table_arn or config.source_table_arn),
        dynamodb_client=dynamodb,
        sqs_client=endpoint.client("sqs"),
        log_stream=log_stream,
    )


def new_aggregator(endpoint: Endpoint, spec: AggregationSpec, **kwargs: Any) -> LocalAggregator:
    return create_local_aggregator(endpoint, spec, f"t{uuid.uuid4().hex[:8]}", **kwargs)


def read_aggregates(endpoint: Endpoint, table: str, group_by: str = "InvoiceNumber") -> dict[str, dict[str, Any]]:
    """The aggregate table as {group value: {measure: python value}}, the handler's position left out."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    items = endpoint.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    result = {}
    for item in items:
        plain = {k: deserializer.deserialize(v) for k, v in item.items() if not k.startswith("_wm")}
        result[str(plain.pop(group_by))] = plain
    return result


def invoice_totals_from_source(endpoint: Endpoint, table: str) -> dict[str, dict[str, Decimal]]:
    """The invoice aggregates recomputed from the source table's final state, invalid items skipped."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    totals: dict[str, dict[str, Decimal]] = {}
    for item in endpoint.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]:
        if "N" not in item.get("Amount", {}):
            continue
        entry = totals.setdefault(item["InvoiceNumber"]["S"], {"Total": Decimal(0), "TransactionCount": Decimal(0)})
        entry["Total"] += deserialize(item["Amount"])
        entry["TransactionCount"] += 1
    return totals


def assert_invoices_exact(endpoint: Endpoint, aggregator: LocalAggregator) -> None:
    """Every invoice's Total and TransactionCount equal the recomputation; emptied invoices are 0."""
    actual = read_aggregates(endpoint, aggregator.aggregate_table)
    expected = invoice_totals_from_source(endpoint, aggregator.source_table)
    for invoice, measures in expected.items():
        assert actual[invoice]["Total"] == measures["Total"], invoice
        assert actual[invoice]["TransactionCount"] == measures["TransactionCount"], invoice
    for invoice in set(actual) - set(expected):
        assert actual[invoice]["Total"] == 0 and actual[invoice]["TransactionCount"] == 0, invoice


def target_argv(
    endpoint_url: str,
    aggregator: LocalAggregator,
    *,
    ledger: bool = False,
    failure_queue: bool = False,
    quarantine_queue: bool = False,
) -> list[str]:
    """The flags that point an operator command at a local aggregator's tables (and queues)."""
    argv = ["--endpoint-url", endpoint_url, "--source-table", aggregator.source_table]
    argv += ["--aggregate-table", aggregator.aggregate_table]
    if ledger and aggregator.ledger_table:
        argv += ["--ledger-table", aggregator.ledger_table]
    if failure_queue:
        argv += ["--failure-queue-url", aggregator.failure_queue_url]
    if quarantine_queue:
        argv += ["--quarantine-queue-url", aggregator.quarantine_queue_url]
    return argv


def drain_queue(endpoint: Endpoint, queue_url: str) -> list[dict[str, Any]]:
    sqs = endpoint.client("sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
