"""Write units per record, billed by DynamoDB's rules, for ours and the seed port on one workload.

Both handlers see the same records in batches of 100 against the same emulator, each through a
``BilledClient``. moto quirk worked around: its TransactWriteItems copies whole tables, so the
large fan-in runs use ``item_level_transaction_rollback`` (same results, linear cost).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from handler.processor import BatchProcessor
from ops.endpoint import Endpoint
from ops.local.local_resources import create_local_aggregator

from .billed_client import Bill, BilledClient
from .billing import item_size
from .seed_handler import SeedHandler
from .workloads import Workload

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

    def per_record(self, bill: Bill) -> float:
        return bill.write_units / self.records

    def dollars_per_million_records(self, bill: Bill) -> float:
        return self.per_record(bill) * PRICE_PER_MILLION_WRITE_UNITS


def measure(endpoint: Endpoint, workload: Workload) -> CostResult:
    aggregator = create_local_aggregator(endpoint, workload.spec, f"b{uuid.uuid4().hex[:8]}")
    ours_client = BilledClient(endpoint.client("dynamodb"))
    ours = BatchProcessor(
        aggregator.handler_config("bench"),
        cast("DynamoDBClient", ours_client),  # a proxy: calls other than the two it bills pass through
        endpoint.client("sqs"),
        log_stream=io.StringIO(),
    )
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
    records = workload.records
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        failed += len(ours.handle({"Records": batch}, None)["batchItemFailures"])
        seed.handle({"Records": batch}, None)
        key_batches += len({r["dynamodb"]["NewImage"][group]["S"] for r in batch})
    return CostResult(
        workload=workload.name,
        records=len(records),
        ours=ours_client.bill,
        seed=seed_client.bill,
        key_batches=key_batches,
        largest_aggregate=_largest(endpoint, aggregator.aggregate_table),
        largest_ledger_entry=_largest(endpoint, aggregator.ledger_table) if aggregator.ledger_table else 0,
        failed_records=failed,
    )


def _largest(endpoint: Endpoint, table: str) -> int:
    pages = endpoint.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return max((item_size(item) for page in pages for item in page["Items"]), default=0)
