"""Write units per record, billed by DynamoDB's rules, for ours and the seed port on one workload.

Both handlers see the same records in batches of 100 against the same emulator, each through a
``BilledClient``. moto quirk worked around: its TransactWriteItems copies whole tables, so the
large fan-in runs use ``item_level_transaction_rollback`` (same results, linear cost).
"""

from __future__ import annotations

import io
import json
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from handler.processor import BatchProcessor
from ops.local.local_resources import LocalAggregator, create_local_aggregator
from ops.targets import Endpoint

from .billed_client import Bill, BilledClient
from .billing import item_size
from .seed_handler import SeedHandler
from .workloads import SOURCE_TABLE_ARN, Workload

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH = 100
PRICE_PER_MILLION_WRITE_UNITS = 0.625
"""US dollars, DynamoDB on-demand in us-east-1 since the November 2024 price cut; check AWS's pricing page."""


@dataclass
class CostResult:
    workload: str
    records: int
    ours: Bill
    seed: Bill
    key_batches: int
    """Sum over batches of the distinct aggregate keys each touches: the single-source write floor."""
    largest_aggregate: int
    largest_ledger_entry: int
    failed_records: int
    extremes_write_units: int = 0
    """Ours, on the extremes table alone (its min/max entries)."""

    def per_record(self, bill: Bill) -> float:
        return bill.write_units / self.records

    def dollars_per_million_records(self, bill: Bill) -> float:
        return self.per_record(bill) * PRICE_PER_MILLION_WRITE_UNITS


def measure(endpoint: Endpoint, workload: Workload, batch_size: int = BATCH, lanes: int = 1) -> CostResult:
    """Bill both handlers on ``workload`` in batches of ``batch_size``.

    ``lanes`` above 1 models a parallelization factor: each window of ``batch_size * lanes``
    records is dealt to that many concurrent batches by source item, keeping each item's order
    (all that Lambda promises), so one key's records spread over several batches.
    """
    aggregator, ours, ours_client = billed_processor(endpoint, workload)
    group, amount, date = workload.seed_attributes
    seed_table = f"{aggregator.aggregate_table}-seed"
    endpoint.client("dynamodb").create_table(
        TableName=seed_table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": group, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": group, "AttributeType": "S"}],
    )
    seed_client = BilledClient(endpoint.client("dynamodb"))
    seed = SeedHandler(cast("DynamoDBClient", seed_client), seed_table, group, amount, date)
    failed = key_batches = 0
    for batch in batches(workload.records, batch_size, lanes):
        failed += len(ours.handle({"Records": batch}, None)["batchItemFailures"])
        seed.handle({"Records": batch}, None)
        key_batches += len({r["dynamodb"]["NewImage"][group]["S"] for r in batch})
    records = workload.records
    return CostResult(
        workload=workload.name,
        records=len(records),
        ours=ours_client.bill,
        seed=seed_client.bill,
        key_batches=key_batches,
        largest_aggregate=_largest(endpoint, aggregator.aggregate_table),
        largest_ledger_entry=_largest(endpoint, aggregator.ledger_table) if aggregator.ledger_table else 0,
        failed_records=failed,
        extremes_write_units=ours_client.bill.by_table.get(aggregator.extremes_table or "", 0),
    )


def billed_processor(endpoint: Endpoint, workload: Workload) -> tuple[LocalAggregator, BatchProcessor, BilledClient]:
    """Our handler on fresh tables for ``workload``, every write it makes billed."""
    aggregator = create_local_aggregator(endpoint, workload.spec, f"b{uuid.uuid4().hex[:8]}")
    client = BilledClient(endpoint.client("dynamodb"))
    processor = BatchProcessor(
        replace(aggregator.handler_config("bench"), source_table_arn=SOURCE_TABLE_ARN),
        cast("DynamoDBClient", client),  # a proxy: calls other than the two it bills pass through
        endpoint.client("sqs"),
        log_stream=io.StringIO(),
    )
    return aggregator, processor, client


def batches(records: list[dict[str, Any]], batch_size: int, lanes: int = 1) -> Iterator[list[dict[str, Any]]]:
    """Stream-ordered batches; with lanes, each window dealt to ``lanes`` batches by source item."""
    window = batch_size * lanes
    for start in range(0, len(records), window):
        dealt: list[list[dict[str, Any]]] = [[] for _ in range(lanes)]
        for raw in records[start : start + window]:
            keys = json.dumps(raw["dynamodb"]["Keys"], sort_keys=True)
            dealt[zlib.crc32(keys.encode()) % lanes].append(raw)
        yield from (lane for lane in dealt if lane)


def _largest(endpoint: Endpoint, table: str) -> int:
    pages = endpoint.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return max((item_size(item) for page in pages for item in page["Items"]), default=0)
