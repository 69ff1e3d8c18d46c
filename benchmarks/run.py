"""Side-by-side measurements of the aggregator and the seed's per-record handler.

Run with ``make bench``. Both handlers see the same records in the same run, against the same
emulator, so the ratios hold even though this machine's absolute timings are noisy.
"""

from __future__ import annotations

import io
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config

from aggregations import DAILY_REVENUE_AGGREGATION, INVOICE_AGGREGATION
from handler.fold import fold
from handler.planner import plan_batch
from handler.processor import BatchProcessor
from handler.spec import parse_spec
from ops.local.emulator import item_level_transaction_rollback, moto_server
from ops.local.faultproxy import FaultPlan, fault_proxy, sequential_round_trips
from ops.local.local_resources import create_local_aggregator
from ops.targets import Endpoint

from . import client_cpu, cold_start, workloads
from .cost import PRICE_PER_MILLION_WRITE_UNITS, CostResult, measure
from .remote_emulator import emulator_process
from .seed_handler import SeedHandler
from .workloads import START, record

SPEC = parse_spec(INVOICE_AGGREGATION)
ORDERS_START = datetime(2026, 11, 1, tzinfo=UTC)
BATCH = 100


def _handlers(endpoint: Endpoint, dynamodb_url: str) -> tuple[BatchProcessor, SeedHandler]:
    """Ours with the invoice stack's tables (ledger included), the seed with its own table."""
    aggregator = create_local_aggregator(endpoint, SPEC, "latency")
    endpoint.client("dynamodb").create_table(
        TableName="seed-latency",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "InvoiceNumber", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "InvoiceNumber", "AttributeType": "S"}],
    )
    client = Endpoint(dynamodb_url).client("dynamodb", config=Config(max_pool_connections=80))
    config = replace(aggregator.handler_config("bench"), source_table_arn=workloads.SOURCE_TABLE_ARN)
    ours = BatchProcessor(config, client, endpoint.client("sqs"), log_stream=io.StringIO())
    return ours, SeedHandler(client, "seed-latency")


def _invoice_insert(sequence: int, invoice: str, transaction: str, rng: random.Random) -> dict[str, Any]:
    image = {
        "InvoiceNumber": {"S": invoice},
        "TransactionId": {"S": transaction},
        "Amount": workloads.amount(rng),
        "InvoiceDate": {"S": "2026-11-26"},
    }
    return record(sequence, ["InvoiceNumber", "TransactionId"], image)


def _modify(insert: dict[str, Any]) -> dict[str, Any]:
    """The same item before an amount correction: both images carry every attribute."""
    new = insert["dynamodb"]["NewImage"]
    old = dict(new, Amount={"N": f"{Decimal(new['Amount']['N']) + Decimal('0.05')}"})
    return {**insert, "eventName": "MODIFY", "dynamodb": {**insert["dynamodb"], "OldImage": old}}


def batch_latency(endpoint: Endpoint, latency: float = 0.05, repeats: int = 3) -> dict[str, float]:
    """Sequential write round trips per 100-record batch over 50 keys, and wall time, median of runs.

    Round trips are counted from the proxy's record of when each write started and ended, not
    derived from wall time, which on this 2-core machine also holds the emulator's own work.
    """
    rng = random.Random(11)
    results: dict[str, list[float]] = {"ours_trips": [], "seed_trips": [], "ours_s": [], "seed_s": []}
    with fault_proxy(endpoint.url, FaultPlan(latency_seconds=latency)) as proxy:
        ours, seed = _handlers(endpoint, proxy.url)
        for attempt in range(repeats):
            keys = [f"K{attempt}-{i:02d}" for i in range(50)]
            records = [_invoice_insert(START + i, keys[i % 50], f"T{attempt}-{i}", rng) for i in range(100)]
            for name, handler in (("ours", ours.handle), ("seed", seed.handle)):
                proxy.counts.intervals.clear()
                started = time.perf_counter()
                handler({"Records": records}, None)
                results[f"{name}_s"].append(time.perf_counter() - started)
                results[f"{name}_trips"].append(sequential_round_trips(proxy.counts.intervals))
    return {"latency": latency, **{name: statistics.median(values) for name, values in results.items()}}


WIDE_ATTRIBUTES = {
    "CustomerId": {"S": "C-000123"},
    "Currency": {"S": "EUR"},
    "Description": {"S": "Consulting services, November"},
    "TaxRate": {"N": "0.21"},
    "Channel": {"S": "web"},
    "Status": {"S": "POSTED"},
    "CreatedBy": {"S": "billing-service"},
    "Lines": {"L": [{"M": {"Sku": {"S": "A-1"}, "Qty": {"N": "2"}}}, {"M": {"Sku": {"S": "B-7"}, "Qty": {"N": "1"}}}]},
}


def _widen(record: dict[str, Any]) -> dict[str, Any]:
    body = record["dynamodb"]
    wide = {
        **body,
        "NewImage": {**body["NewImage"], **WIDE_ATTRIBUTES},
        "OldImage": {**body["OldImage"], **WIDE_ATTRIBUTES},
    }
    return {**record, "dynamodb": wide}


def throughput(count: int = 20000, repeats: int = 5) -> dict[str, dict[str, float]]:
    """Records/s: ours (plan + fold, in batches of 100 as Lambda delivers them) against
    TypeDeserializer decoding both images, on two record shapes; best of ``repeats``."""
    base = [_modify(r) for r in workloads.invoices(count, 1000, seed=3).records]
    deserializer = TypeDeserializer()

    def typedeserializer(records: list[dict[str, Any]]) -> None:
        for raw in records:
            body = raw["dynamodb"]
            {k: deserializer.deserialize(v) for k, v in body["NewImage"].items()}
            {k: deserializer.deserialize(v) for k, v in body["OldImage"].items()}

    def ours(records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), BATCH):
            for key in plan_batch(SPEC, records[start : start + BATCH], time.time()).keys.values():
                fold(key.deltas)

    results = {}
    for shape, records in (("invoice, 4 attributes", base), ("invoice, 12 attributes", [_widen(r) for r in base])):
        rates = {}
        for name, run in (("ours", ours), ("typedeserializer", typedeserializer)):
            best = min(_timed(run, records) for _ in range(repeats))
            rates[name] = len(records) / best
        results[shape] = rates
    return results


ORDERS_PER_CUSTOMER = parse_spec(
    {**{k: v for k, v in DAILY_REVENUE_AGGREGATION.items() if k != "timezone"}, "group_by": "CustomerId"}
)
"""The daily-revenue example grouped by its one attribute: the baseline for the bucketed spec."""
ORDERS_PER_CUSTOMER_PER_DAY = parse_spec(DAILY_REVENUE_AGGREGATION)


def bucketed_throughput(count: int = 20000, repeats: int = 5) -> dict[str, float]:
    """Records/s of plan + fold on the same order MODIFYs (re-dated within a month, ISO dates with an
    offset), grouped by customer, and by customer and Berlin day; best of ``repeats``."""
    rng = random.Random(5)
    records = []
    for index in range(count):
        minute = rng.randrange(30 * 24 * 60)
        moved = minute + rng.choice([0, 0, 0, 24 * 60])  # a quarter of the changes move the order a day
        old, new = (
            {
                "OrderId": {"S": f"o{index % 5000}"},
                "CustomerId": {"S": f"C-{rng.randrange(400)}"},
                "OrderDate": {"S": (ORDERS_START + timedelta(minutes=m)).isoformat()},
                "Amount": workloads.amount(rng),
            }
            for m in (minute, moved)
        )
        new["CustomerId"] = old["CustomerId"]
        records.append(record(START + index, ["OrderId"], new, old))

    def plan(spec: Any) -> Any:
        def run(batch: list[dict[str, Any]]) -> None:
            for start in range(0, len(batch), BATCH):
                for key in plan_batch(spec, batch[start : start + BATCH], time.time()).keys.values():
                    fold(key.deltas)

        return run

    runs = {"one attribute": plan(ORDERS_PER_CUSTOMER), "bucketed": plan(ORDERS_PER_CUSTOMER_PER_DAY)}
    return {name: count / min(_timed(run, records) for _ in range(repeats)) for name, run in runs.items()}


def _timed(run: Any, records: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    run(records)
    return time.perf_counter() - started


FAN_INS = (10, 100, 10_000)


def costs(endpoint: Endpoint) -> list[CostResult]:
    results = [
        measure(endpoint, workloads.invoices()),
        measure(endpoint, workloads.invoices_without_extremes()),
        measure(endpoint, workloads.single_source()),
    ]
    with item_level_transaction_rollback():  # moto quirk: see ops/local/emulator.py
        for fan_in in FAN_INS:
            results.append(measure(endpoint, workloads.fan_in(fan_in)))
            endpoint.reset()
    return results


def print_costs(results: list[CostResult]) -> None:
    print("write units per record, billed by DynamoDB's rules (larger of before/after per started KB,")
    print(f"x2 for each item of a transaction), batches of {BATCH}; $ per million records at")
    print(f"${PRICE_PER_MILLION_WRITE_UNITS} per million write units (on-demand, us-east-1):")
    header = f"  {'workload':<40} {'records':>7} {'ours':>6} {'seed':>6} {'ours $/M':>9} {'seed $/M':>9}"
    print(header + f" {'agg max B':>9} {'ledger max B':>12} {'failed':>6}")
    for r in results:
        print(
            f"  {r.workload:<40} {r.records:>7} {r.per_record(r.ours):>6.2f} {r.per_record(r.seed):>6.2f} "
            f"{r.dollars_per_million_records(r.ours):>9.3f} {r.dollars_per_million_records(r.seed):>9.3f} "
            f"{r.largest_aggregate:>9} {r.largest_ledger_entry:>12} {r.failed_records:>6}"
        )
    with_max, without = results[0], results[1]
    added = with_max.per_record(with_max.ours) - without.per_record(without.ours)
    print(
        f"  a max measure (LargestTransaction) adds {added:.2f} write units per record on the invoices "
        f"({without.per_record(without.ours):.2f} -> {with_max.per_record(with_max.ours):.2f}; the extremes table's "
        f"{with_max.extremes_write_units / with_max.records:.2f} of them)"
    )
    single = next(r for r in results if "fan-in 1" in r.workload)
    print(
        f"  fan-in 1: {single.ours.requests} writes for {single.key_batches} (key, batch) pairs: "
        f"{single.ours.requests / single.key_batches:.2f} write per key per batch"
    )


COLD_START_RUNS = 15


def main() -> None:
    with moto_server() as endpoint:
        latency = batch_latency(endpoint)
        endpoint.reset()
        cost_results = costs(endpoint)
    # After the in-process emulator has stopped: only the client's work is left in this process.
    with emulator_process() as remote:
        cpu = client_cpu.run(remote)
        cpu_stand_in = client_cpu.run_stand_in(remote)
    cold = cold_start.measure(COLD_START_RUNS)
    speed = throughput()
    bucketed = bucketed_throughput()
    print("StreamAggregator vs the seed's per-record handler (same records, same run)\n")
    print_costs(cost_results)
    print(f"batch latency, 100 records over 50 keys, {latency['latency'] * 1000:.0f} ms injected per write:")
    print(
        f"  sequential write round trips: ours {latency['ours_trips']:.0f}   seed {latency['seed_trips']:.0f}\n"
        f"  wall time: ours {latency['ours_s']:.2f} s   seed {latency['seed_s']:.2f} s   "
        f"ratio {latency['seed_s'] / latency['ours_s']:.0f}x"
    )
    print("decode + fold in-process, 20000 MODIFY records with two images (ours in batches of 100):")
    for shape, rates in speed.items():
        print(
            f"  {shape}: ours {rates['ours']:,.0f} records/s   TypeDeserializer alone "
            f"{rates['typedeserializer']:,.0f} records/s   ratio {rates['ours'] / rates['typedeserializer']:.2f}x"
        )
    print("decode + fold, 20000 order MODIFYs (a quarter re-dated by a day), the same records grouped two ways:")
    print(
        f"  per customer: {bucketed['one attribute']:,.0f} records/s   per customer per Berlin day: "
        f"{bucketed['bucketed']:,.0f} records/s   ratio {bucketed['bucketed'] / bucketed['one attribute']:.2f}x"
    )
    client_cpu.print_client_cpu(cpu)
    client_cpu.print_client_cpu(cpu_stand_in, client_cpu.STAND_IN)
    cold_start.print_cold_start(cold, COLD_START_RUNS)


if __name__ == "__main__":
    main()
