"""`make capacity`: Lambda, DynamoDB, stream and SQS cost per million source writes, and what the
mapping's settings do to it, for the invoice workload and a high fan-in one.

Write units are billed by DynamoDB's rules on the emulator for each setting, side by side in one
run; the handler's CPU time is measured on the same batches through real botocore against an
emulator in another process (``client_cpu``), SDK included; the write round trip is an
assumption, printed with the results (see ``capacity_model``).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from handler.config import DEFAULT_CONCURRENCY
from handler.transaction import MAX_ITEMS_PER_TRANSACTION
from ops.local.emulator import item_level_transaction_rollback, moto_server
from ops.targets import Endpoint

from . import workloads
from .capacity_model import (
    Assumptions,
    Measured,
    PerMillion,
    ledger_storage_dollars,
    per_million,
    quarantine_dollars,
    stream_read_dollars,
)
from .client_cpu import handle_seconds, lambda_processor
from .cost import batches, billed_processor
from .prices import ON_DEMAND_US_EAST_1, Prices
from .remote_emulator import emulator_process
from .workloads import Workload

SETTINGS = ((10, 1), (100, 1), (1000, 1), (100, 4), (100, 10))
"""(batch_size, parallelization_factor) pairs, each billed on the same records."""


@dataclass(frozen=True)
class Row:
    workload: str
    batch_size: int
    parallelization: int
    measured: Measured
    cost: PerMillion


def write_rounds(workload: Workload, batch: list[dict[str, Any]]) -> int:
    """Sequential write round trips for one batch: keys beyond the handler's concurrency wait for a
    free worker, and a key over 99 items writes its transactions one after another."""
    group = workload.spec.group_by
    per_key = Counter(raw["dynamodb"]["NewImage"][group]["S"] for raw in batch)
    chunks = max(math.ceil(items / MAX_ITEMS_PER_TRANSACTION) for items in per_key.values())
    single_source = workload.spec.single_source
    return max(math.ceil(len(per_key) / DEFAULT_CONCURRENCY), 1 if single_source else chunks)


def cpu_seconds(remote: Endpoint, workload: Workload, dealt: list[list[dict[str, Any]]]) -> float:
    """This process's CPU to handle every batch through botocore, against ``remote`` (another process)."""
    processor = lambda_processor(remote, workload)
    return sum(handle_seconds(processor, batch) for batch in dealt)


def measure_setting(endpoint: Endpoint, remote: Endpoint, workload: Workload, batch_size: int, lanes: int) -> Measured:
    """Bill the setting on ``endpoint`` (each write read before and after), then time it on ``remote``."""
    dealt = list(batches(workload.records, batch_size, lanes))
    _, processor, client = billed_processor(endpoint, workload)
    failed = sum(len(processor.handle({"Records": batch}, None)["batchItemFailures"]) for batch in dealt)
    if failed:
        raise RuntimeError(f"{failed} records failed: the bill would not be the workload's")
    bill = client.bill
    return Measured(
        records=len(workload.records),
        invocations=len(dealt),
        write_units=bill.write_units,
        write_rounds=sum(write_rounds(workload, batch) for batch in dealt),
        cpu_seconds=cpu_seconds(remote, workload, dealt),
    )


def run(assumptions: Assumptions, prices: Prices = ON_DEMAND_US_EAST_1) -> list[Row]:
    rows = []
    # moto quirk (ops/local/emulator.py): item-level rollback, here and in the remote emulator
    with moto_server() as endpoint, item_level_transaction_rollback(), emulator_process() as remote:
        for workload in (workloads.invoices(), workloads.fan_in(1000, customers=2)):
            for batch_size, lanes in SETTINGS:
                measured = measure_setting(endpoint, remote, workload, batch_size, lanes)
                cost = per_million(measured, assumptions, prices)
                rows.append(Row(workload.name, batch_size, lanes, measured, cost))
                endpoint.reset()
                remote.reset()
    return rows


def main() -> None:
    assumptions = Assumptions()
    prices = ON_DEMAND_US_EAST_1
    rows = run(assumptions, prices)
    print(f"Per million source writes, on-demand prices in {prices.region} read on {prices.read_on};")
    print(
        f"Lambda arm64 at {assumptions.memory_mb} MB; assumed write round trip "
        f"{assumptions.write_round_trip_seconds * 1000:.0f} ms; client CPU (SDK included) measured here, "
        "scaled to Lambda's share."
    )
    print(
        f"  {'workload':<34} {'batch':>5} {'PF':>3} {'invocations':>11} {'ms/inv':>7} {'GB-s':>7} "
        f"{'WCU/rec':>7} {'Lambda $':>9} {'DynamoDB $':>10} {'total $':>8}"
    )
    for row in rows:
        c = row.cost
        print(
            f"  {row.workload:<34} {row.batch_size:>5} {row.parallelization:>3} {c.invocations:>11,.0f} "
            f"{c.duration_seconds * 1000:>7.1f} {c.gb_seconds:>7.1f} {c.write_units / 1e6:>7.2f} "
            f"{c.lambda_dollars:>9.3f} {c.dynamodb_dollars:>10.3f} {c.dollars:>8.3f}"
        )
    print("Besides, per million source writes:")
    print("  stream reads by the mapping: $0 (GetRecords calls of Lambda triggers are not charged)")
    print(f"  a replay or backfill reading them again: ${stream_read_dollars(1_000_000, prices):.4f}")
    quarantined = quarantine_dollars(10_000, 2048, prices)
    print(f"  1% of records quarantined (2 KB messages), sent and drained: ${quarantined:.4f}")
    print(
        "  ledger storage, a million items written within 25 hours (122-byte entries), a month: "
        f"${ledger_storage_dollars(1_000_000, 122, prices):.4f}"
    )


if __name__ == "__main__":
    main()
