"""Side-by-side measurements of the aggregator and the seed's per-record handler.

Run with ``make bench``. Both handlers see the same records in the same run, against the same
emulator, so the ratios hold even though this machine's absolute timings are noisy.
"""

from __future__ import annotations

import random
import statistics
import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config

from aggregations import INVOICE_AGGREGATION
from handler.config import HandlerConfig
from handler.fold import fold
from handler.planner import plan_batch
from handler.processor import BatchProcessor
from handler.spec import parse_spec
from ops.emulator import Endpoint, moto_server
from ops.faultproxy import FaultPlan, fault_proxy, sequential_round_trips

from .billing import item_size
from .seed_handler import SeedHandler

SPEC = parse_spec(INVOICE_AGGREGATION)
BATCH = 100


def zipf_records(count: int, keys: int, rng: random.Random, start: int = 10**20) -> list[dict[str, Any]]:
    weights = [1 / (rank**1.1) for rank in range(1, keys + 1)]
    invoices = rng.choices(range(keys), weights=weights, k=count)
    now = time.time()
    return [_insert(start + i, f"INV-{invoice:05d}", f"T{i}", rng, now) for i, invoice in enumerate(invoices)]


def _insert(sequence: int, invoice: str, transaction: str, rng: random.Random, now: float) -> dict[str, Any]:
    image = {
        "InvoiceNumber": {"S": invoice},
        "TransactionId": {"S": transaction},
        "Amount": {"N": f"{rng.randrange(1, 10**6) / 100:.2f}"},
        "InvoiceDate": {"S": "2026-11-26"},
    }
    return {
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/InvoiceTransactions/stream/x",
        "dynamodb": {
            "ApproximateCreationDateTime": now,
            "Keys": {"InvoiceNumber": image["InvoiceNumber"], "TransactionId": image["TransactionId"]},
            "NewImage": image,
            "SequenceNumber": str(sequence),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def _modify(record: dict[str, Any]) -> dict[str, Any]:
    """The same item before an amount correction: both images carry every attribute."""
    new = record["dynamodb"]["NewImage"]
    old = dict(new, Amount={"N": f"{Decimal(new['Amount']['N']) + Decimal('0.05')}"})
    body = dict(record["dynamodb"], OldImage=old)
    return dict(record, eventName="MODIFY", dynamodb=body)


def _aggregate_table(endpoint: Endpoint, name: str) -> str:
    endpoint.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "InvoiceNumber", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "InvoiceNumber", "AttributeType": "S"}],
    )
    return name


def _handlers(endpoint: Endpoint, dynamodb_url: str, suffix: str) -> tuple[BatchProcessor, SeedHandler, str, str]:
    ours_table, seed_table = _aggregate_table(endpoint, f"ours-{suffix}"), _aggregate_table(endpoint, f"seed-{suffix}")
    queue = endpoint.client("sqs").create_queue(QueueName=f"q-{suffix}")["QueueUrl"]
    client = Endpoint(dynamodb_url).client("dynamodb", config=Config(max_pool_connections=80))
    config = HandlerConfig(spec=SPEC, aggregate_table=ours_table, quarantine_queue_url=queue)
    ours = BatchProcessor(config, dynamodb_client=client, sqs_client=endpoint.client("sqs"))
    return ours, SeedHandler(client, seed_table), ours_table, seed_table


def writes_and_sizes(endpoint: Endpoint) -> dict[str, Any]:
    records = zipf_records(3000, 400, random.Random(7))
    with fault_proxy(endpoint.url, FaultPlan()) as proxy:
        ours, seed, ours_table, seed_table = _handlers(endpoint, proxy.url, "writes")
        before = proxy.counts.forwarded
        for start in range(0, len(records), BATCH):
            ours.handle({"Records": records[start : start + BATCH]}, None)
        ours_writes = proxy.counts.forwarded - before
        before = proxy.counts.forwarded
        for start in range(0, len(records), BATCH):
            seed.handle({"Records": records[start : start + BATCH]}, None)
        seed_writes = proxy.counts.forwarded - before
    distinct_per_batch = sum(
        len({r["dynamodb"]["Keys"]["InvoiceNumber"]["S"] for r in records[s : s + BATCH]})
        for s in range(0, len(records), BATCH)
    )
    scan = endpoint.client("dynamodb").scan
    ours_sizes = [item_size(i) for i in scan(TableName=ours_table)["Items"]]
    seed_sizes = [item_size(i) for i in scan(TableName=seed_table)["Items"]]
    return {
        "records": len(records),
        "ours_writes": ours_writes,
        "seed_writes": seed_writes,
        "distinct_keys_per_batch_sum": distinct_per_batch,
        "ours_max_item": max(ours_sizes),
        "ours_mean_item": statistics.mean(ours_sizes),
        "seed_max_item": max(seed_sizes),
    }


def batch_latency(endpoint: Endpoint, latency: float = 0.05, repeats: int = 3) -> dict[str, float]:
    """Sequential write round trips per 100-record batch over 50 keys, and wall time, median of runs.

    Round trips are counted from the proxy's record of when each write started and ended, not
    derived from wall time, which on this 2-core machine also holds the emulator's own work.
    """
    rng = random.Random(11)
    results: dict[str, list[float]] = {"ours_trips": [], "seed_trips": [], "ours_s": [], "seed_s": []}
    with fault_proxy(endpoint.url, FaultPlan(latency_seconds=latency)) as proxy:
        ours, seed, *_ = _handlers(endpoint, proxy.url, "latency")
        for attempt in range(repeats):
            keys = [f"K{attempt}-{i:02d}" for i in range(50)]
            records = [_insert(10**20 + i, keys[i % 50], f"T{i}", rng, time.time()) for i in range(100)]
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
    base = [_modify(r) for r in zipf_records(count, 1000, random.Random(3))]
    deserializer = TypeDeserializer()

    def typedeserializer(records: list[dict[str, Any]]) -> None:
        for record in records:
            body = record["dynamodb"]
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


def _timed(run: Any, records: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    run(records)
    return time.perf_counter() - started


def main() -> None:
    with moto_server() as endpoint:
        writes = writes_and_sizes(endpoint)
        latency = batch_latency(endpoint)
    speed = throughput()
    n = writes["records"]
    print("StreamAggregator vs the seed's per-record handler (same records, same run)\n")
    print(f"writes per record, Zipf(1.1) over 400 invoices, {n} records in batches of {BATCH}:")
    print(
        f"  ours {writes['ours_writes'] / n:.3f}   seed {writes['seed_writes'] / n:.3f}   "
        f"ratio seed/ours {writes['seed_writes'] / writes['ours_writes']:.1f}x"
    )
    print(
        f"  ours writes {writes['ours_writes']}, sum of distinct keys per batch {writes['distinct_keys_per_batch_sum']}"
    )
    print(f"batch latency, 100 records over 50 keys, {latency['latency'] * 1000:.0f} ms injected per write:")
    print(
        f"  sequential write round trips: ours {latency['ours_trips']:.0f}   seed {latency['seed_trips']:.0f}\n"
        f"  wall time: ours {latency['ours_s']:.2f} s   seed {latency['seed_s']:.2f} s   "
        f"ratio {latency['seed_s'] / latency['ours_s']:.0f}x"
    )
    print("aggregate item size (bytes; 1 WCU per started KB):")
    print(
        f"  ours max {writes['ours_max_item']} mean {writes['ours_mean_item']:.0f}   seed max {writes['seed_max_item']}"
    )
    print("decode + fold in-process, 20000 MODIFY records with two images (ours in batches of 100):")
    for shape, rates in speed.items():
        print(
            f"  {shape}: ours {rates['ours']:,.0f} records/s   TypeDeserializer alone "
            f"{rates['typedeserializer']:,.0f} records/s   ratio {rates['ours'] / rates['typedeserializer']:.2f}x"
        )


if __name__ == "__main__":
    main()
