"""`make demo`: the invoice aggregator running for real on an embedded emulator.

Same aggregation definition as the Pulumi stack (aggregations.py), the real handler, and the local
event source mapping in between. Source items are written with PutItem (moto's UpdateItem on a new
key emits two INSERT records, an emulator quirk).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any, cast

from boto3.dynamodb.types import TypeDeserializer
from rich.console import Console
from rich.table import Table

from .._lambda_code import (
    AggregationSpec,
    BatchProcessor,
    Writer,
    key_token,
    read_extremes,
    read_measures,
)
from ..targets import Endpoint
from .emulator import moto_server
from .local_resources import LocalAggregator, create_invoice_aggregator
from .poller import StreamPoller

SEED_TRANSACTIONS = [
    {"InvoiceNumber": "ABC", "TransactionId": "123", "Amount": "100", "InvoiceDate": "06062016"},
    {"InvoiceNumber": "ABC", "TransactionId": "456", "Amount": "300", "InvoiceDate": "06062016"},
]


class ConsoleLines(io.TextIOBase):
    """The handler's log lines (its summary line per batch, its errors) on the console, each as written:
    no markup, highlighting or wrapping, so a JSON line stays one line of JSON. For ``--verbose``."""

    def __init__(self, console: Console):
        self._console = console
        self._partial = ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return len(text)


def run_demo(console: Console | None = None, verbose: bool = False) -> dict[str, dict[str, Any]]:
    """Run the pipeline once over the seed transactions; returns InvoiceTotal by invoice.

    With ``verbose``, the handler's log lines are shown too, as it wrote them."""
    console = console or Console()
    with moto_server() as endpoint:
        console.print(f"[bold]emulator[/] moto on {endpoint.url}")
        aggregator = create_invoice_aggregator(endpoint, "demo")
        console.print(
            f"[bold]tables[/] {aggregator.source_table} (stream NEW_AND_OLD_IMAGES) -> {aggregator.aggregate_table}"
        )
        write_transactions(endpoint, aggregator, SEED_TRANSACTIONS)
        console.print(f"[bold]wrote[/] {len(SEED_TRANSACTIONS)} transactions with PutItem")
        log = io.StringIO()
        stats = poller_for(endpoint, aggregator, log_stream=log).drain()
        if verbose:
            ConsoleLines(console).write(log.getvalue())
        console.print(
            f"[bold]stream[/] {stats.records_delivered} records in {stats.invocations} invocation(s), "
            f"{stats.function_errors} function errors, "
            f"{stats.batches_to_failure_destination} batches to the failure queue"
        )
        summary = json.loads(log.getvalue().splitlines()[-1])
        console.print(
            f"[bold]handler[/] {summary['Records']} records, {summary['AggregateKeys']} key(s), "
            f"{summary['AggregateWrites']} write(s), {summary['QuarantinedRecords']} quarantined"
        )
        totals = read_totals(endpoint, aggregator)
    console.print(totals_table(totals, aggregator.spec))
    return totals


def write_transactions(endpoint: Endpoint, aggregator: LocalAggregator, rows: list[dict[str, str]]) -> None:
    dynamodb = endpoint.client("dynamodb")
    for row in rows:
        item = {name: {"N": value} if name == "Amount" else {"S": value} for name, value in row.items()}
        dynamodb.put_item(TableName=aggregator.source_table, Item=item)


def poller_for(
    endpoint: Endpoint,
    aggregator: LocalAggregator,
    log_stream: Writer | None = None,
    handler_endpoint: Endpoint | None = None,
    aggregator_name: str = "demo",
) -> StreamPoller:
    """The real handler behind the local event source mapping; its summary lines go to ``log_stream``
    (stdout by default) under ``aggregator_name``, its DynamoDB requests to ``handler_endpoint`` (the
    emulator's drill puts a refusing proxy there) or else to ``endpoint``."""
    config = aggregator.handler_config(aggregator_name)
    dynamodb = (handler_endpoint or endpoint).client("dynamodb")
    processor = BatchProcessor(config, dynamodb, endpoint.client("sqs"), log_stream=log_stream)
    sqs = endpoint.client("sqs")
    return StreamPoller(
        endpoint.client("dynamodbstreams"),
        aggregator.stream_arn,
        processor.handle,
        on_failure=lambda payload: sqs.send_message(
            QueueUrl=aggregator.failure_queue_url, MessageBody=json.dumps(payload)
        ),
    )


def read_totals(endpoint: Endpoint, aggregator: LocalAggregator) -> dict[str, dict[str, Any]]:
    """Each aggregate's measures as a reader sees them: avg divided, min and max from the extremes
    table (``read_measures``, the helper users call); a measure with no value is left out."""
    deserialize: Callable[[Any], Any] = TypeDeserializer().deserialize
    dynamodb = endpoint.client("dynamodb")
    scanned = dynamodb.scan(TableName=aggregator.aggregate_table, ConsistentRead=True)["Items"]
    items = cast("list[dict[str, Any]]", scanned)  # the stubs' typed dicts, read as the handler's plain ones
    spec, totals = aggregator.spec, {}
    for item in items:
        group = item[spec.group_by]
        extremes = None
        if aggregator.extremes_table:
            token = key_token(group, spec.group_by)
            extremes = read_extremes(dynamodb, aggregator.extremes_table, spec, token)
        measures = read_measures(spec, item, extremes)
        totals[str(deserialize(group))] = {
            name: deserialize(value) for name, value in measures.items() if value is not None
        }
    return totals


def totals_table(totals: dict[str, dict[str, Any]], spec: AggregationSpec) -> Table:
    """The invoices' totals, one column per measure of ``spec``, the invoice aggregation's."""
    table = Table(title="InvoiceTotal")
    measures = [measure.name for measure in spec.measures]
    table.add_column("InvoiceNumber")
    for name in measures:
        table.add_column(name, justify="left" if name == "UpdateDate" else "right")
    for invoice, values in sorted(totals.items()):
        table.add_row(invoice, *(str(values.get(name, "-")) for name in measures))
    return table
