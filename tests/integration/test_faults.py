"""End to end under injected faults: lost writes, 500s after applied writes, outages that exhaust
the SDK's retries, and duplicate batch deliveries. Every total must come out exact.

moto quirks worked around here: PutItem only for source writes (UpdateItem on a new key emits two
INSERTs); DeleteItem is fine; the stream is polled by ops.local.poller (no event source mapping in moto).
"""

import json
import random

import pytest

from ops.local.faultproxy import FaultPlan, fault_proxy
from ops.local.poller import MappingSettings, StreamPoller
from tests.conftest import assert_invoices_exact, drain_queue, invoice_image, make_processor, new_aggregator

pytestmark = pytest.mark.integration


def random_workload(endpoint, table, rng: random.Random, operations: int) -> int:
    """Puts, overwrites and deletes on a few hot invoices; returns how many invalid items were written."""
    dynamodb = endpoint.client("dynamodb")
    live: list[tuple[str, str]] = []
    invalid = 0
    for step in range(operations):
        roll = rng.random()
        if live and roll < 0.2:
            invoice, transaction = live.pop(rng.randrange(len(live)))
            dynamodb.delete_item(
                TableName=table, Key={"InvoiceNumber": {"S": invoice}, "TransactionId": {"S": transaction}}
            )
            continue
        if live and roll < 0.45:
            invoice, transaction = rng.choice(live)
        else:
            invoice, transaction = f"INV-{rng.randrange(6)}", f"t{step}"
            live.append((invoice, transaction))
        amount = f"{rng.randrange(1, 100000) / 100:.2f}"
        item = invoice_image(invoice, transaction, amount, date=f"2026-11-{step % 28 + 1:02d}")
        if rng.random() < 0.05:
            item["Amount"] = {"S": "not-a-number"}
            invalid += 1
        dynamodb.put_item(TableName=table, Item=item)
    return invalid


@pytest.mark.parametrize("seed", [1, 2])
def test_totals_are_exact_under_faults(endpoint, invoice_spec, seed):
    aggregator = new_aggregator(endpoint, invoice_spec)
    rng = random.Random(seed)
    invalid_writes = random_workload(endpoint, aggregator.source_table, rng, operations=300)
    # a batch is one or two transactions now (keys packed): outages are made likelier so that some still happen
    plan = FaultPlan(lose_rate=0.15, applied_then_error_rate=0.15, outage_rate=0.1, outage_length=4, seed=seed)
    sqs = endpoint.client("sqs")
    with fault_proxy(endpoint.url, plan) as proxy:
        processor = make_processor(endpoint, aggregator, dynamodb_url=proxy.url, max_attempts=3)
        settings = MappingSettings(batch_size=10, max_retry_attempts=-1, duplicate_rate=0.2, seed=seed)
        poller = StreamPoller(
            endpoint.client("dynamodbstreams"),
            aggregator.stream_arn,
            processor.handle,
            settings,
            on_failure=lambda p: sqs.send_message(QueueUrl=aggregator.failure_queue_url, MessageBody=json.dumps(p)),
        )
        stats = poller.drain()
        counts = proxy.counts
    assert counts.lost and counts.applied_then_error and counts.outages, counts
    assert stats.partial_failures and stats.duplicate_deliveries, stats
    assert stats.batches_to_failure_destination == 0
    assert_invoices_exact(endpoint, aggregator)
    quarantined = drain_queue(endpoint, aggregator.quarantine_queue_url)
    distinct = {m["sequenceNumber"] for m in quarantined}
    assert len(distinct) == invalid_writes, "every malformed record is in the quarantine queue"
    assert all("must be a number" in m["reason"] for m in quarantined)
