"""The benchmark's workloads: stream records in Lambda's event format, in stream order."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aggregations import INVOICE_AGGREGATION, ORDERS_AGGREGATION
from handler.spec import AggregationSpec, parse_spec

SOURCE_TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Source"
"""The table the made-up records come from: the handler measured is configured with it, or it would
quarantine them all as another table's."""
STREAM_ARN = f"{SOURCE_TABLE_ARN}/stream/2026-11-28T00:00:00.000"
START = 10**20

ORDERS_BY_CUSTOMER = parse_spec({key: value for key, value in ORDERS_AGGREGATION.items() if key != "filter"})
"""The README's orders example without its filter: every generated order counts."""
ACCOUNT_BALANCES = parse_spec(
    {
        "partition_key": "AccountId",
        "measures": [{"name": "Balance", "op": "sum", "attribute": "Amount"}, {"name": "Changes", "op": "count"}],
    }
)


@dataclass(frozen=True)
class Workload:
    name: str
    spec: AggregationSpec
    records: list[dict[str, Any]]
    seed_attributes: tuple[str, str, str]
    """(group, amount, date) for the seed port."""


def record(sequence: int, keys: list[str], new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": time.time(),
        "Keys": {k: new[k] for k in keys},
        "NewImage": new,
        "SequenceNumber": str(sequence),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        body["OldImage"] = old
    return {
        "eventName": "MODIFY" if old else "INSERT",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": STREAM_ARN,
        "dynamodb": body,
    }


def amount(rng: random.Random) -> dict[str, str]:
    return {"N": f"{rng.randrange(1, 10**6) / 100:.2f}"}


def invoices(count: int = 3000, invoices: int = 400, seed: int = 7) -> Workload:
    """docs/performance.md's invoice workload: Zipf(1.1) over 400 invoices, one new transaction per record."""
    rng = random.Random(seed)
    weights = [1 / (rank**1.1) for rank in range(1, invoices + 1)]
    chosen = rng.choices(range(invoices), weights=weights, k=count)
    records = []
    for i, invoice in enumerate(chosen):
        image = {
            "InvoiceNumber": {"S": f"INV-{invoice:05d}"},
            "TransactionId": {"S": f"T{i}"},
            "Amount": amount(rng),
            "InvoiceDate": {"S": "2026-11-26"},
        }
        records.append(record(START + i, ["InvoiceNumber", "TransactionId"], image))
    return Workload(
        "invoices, Zipf(1.1) over 400",
        parse_spec(INVOICE_AGGREGATION),
        records,
        ("InvoiceNumber", "Amount", "InvoiceDate"),
    )


def invoices_without_extremes() -> Workload:
    """The same invoice records, aggregated without the invoice's min/max measures (LargestTransaction):
    what a min/max adds is the difference between this and ``invoices``, measured side by side."""
    workload = invoices()
    raw = {
        **INVOICE_AGGREGATION,
        "measures": [m for m in INVOICE_AGGREGATION["measures"] if m["op"] not in ("min", "max")],
    }
    return Workload(f"{workload.name}, no max", parse_spec(raw), workload.records, workload.seed_attributes)


def fan_in(orders_per_customer: int, customers: int = 2, seed: int = 11) -> Workload:
    """Every record a new order: ``orders_per_customer`` distinct source items feed each aggregate key."""
    rng = random.Random(seed)
    orders = [(c, o) for c in range(customers) for o in range(orders_per_customer)]
    rng.shuffle(orders)
    records = []
    for i, (customer, order) in enumerate(orders):
        image = {
            "OrderId": {"S": f"O-{customer}-{order:06d}"},
            "CustomerId": {"S": f"C-{customer}"},
            "Amount": amount(rng),
            "OrderDate": {"S": "2026-11-26"},
        }
        records.append(record(START + i, ["OrderId"], image))
    name = f"orders, fan-in {orders_per_customer:,} x {customers} customers"
    return Workload(name, ORDERS_BY_CUSTOMER, records, ("CustomerId", "Amount", "OrderDate"))


def single_source(accounts: int = 400, changes: int = 3000, seed: int = 13) -> Workload:
    """Fan-in 1: each aggregate item has one source item (no sort key, grouped by the partition key)."""
    rng = random.Random(seed)
    current: dict[int, dict[str, Any]] = {}
    records = []
    for i in range(changes):
        account = rng.randrange(accounts)
        new = {"AccountId": {"S": f"A-{account:04d}"}, "Amount": amount(rng), "Day": {"S": "2026-11-26"}}
        records.append(record(START + i, ["AccountId"], new, current.get(account)))
        current[account] = new
    return Workload("account balances, fan-in 1", ACCOUNT_BALANCES, records, ("AccountId", "Amount", "Day"))


def total(records: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(r["dynamodb"]["NewImage"]["Amount"]["N"]) for r in records), Decimal(0))
