"""`demo --watch`'s second aggregation: generated orders, their revenue and count per UTC minute.

Orders in a table of their own rather than a second aggregation of the invoice transactions: a
per-minute series needs a timestamp, and InvoiceDate is a day (``ddmmyyyy``); and it is how the
component is meant to be deployed, one StreamAggregator per table stream (a second one on a stream
in one program is refused, components/stream_readers.py, because DynamoDB advises at most two
readers per shard and ``backfill`` or ``replay`` may be the second). So the watch has two tables,
two streams and one local poller on each: every shard has exactly one reader.

The series is read the way ``python -m ops query --from --to`` reads a range of buckets (the same
keys, strongly consistent BatchGetItem), so a minute with no item is a minute with no orders.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from rich.bar import Bar
from rich.table import Table

from .._lambda_code import Bucket, label, parse_spec
from ..query import key_text, query_keys, read_keys
from ..targets import Endpoint
from .local_resources import LocalAggregator, create_local_aggregator

ORDERS_PER_MINUTE: dict[str, Any] = {
    "partition_key": "OrderId",
    "group_by": [{"attribute": "OrderDate", "bucket": "minute"}],
    "measures": [
        {"name": "Revenue", "op": "sum", "attribute": "Amount"},
        {"name": "OrderCount", "op": "count"},
    ],
}
"""Orders (OrderId, CustomerId, OrderDate as ISO 8601 in UTC, Amount) -> OrdersPerMinute, keyed
OrderDate_minute (``2026-11-28T14:05``)."""
ORDERS_TABLE, ORDERS_PER_MINUTE_TABLE = "Orders", "OrdersPerMinute"
CUSTOMERS = [f"C-{number:02d}" for number in range(1, 6)]
BAR_WIDTH = 24


class MinuteTotal(NamedTuple):
    minute: str
    """The bucket's label, ``2026-11-28T14:05`` (UTC)."""
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class OrderClock:
    """The time written on generated orders: wall-clock UTC, or ``speed`` times as fast from ``started``.

    At speed 1 it is ``time.time()`` itself. A faster clock lets a demo roll over minutes in seconds;
    it is still one monotonic timeline that the view labels as simulated, and only the orders' dates
    follow it (the stream lag shown stays real).
    """

    started: float
    speed: int = 1

    def now(self, wall: float | None = None) -> datetime:
        wall = time.time() if wall is None else wall
        return datetime.fromtimestamp(self.started + (wall - self.started) * self.speed, UTC)


def create_orders_aggregator(endpoint: Endpoint) -> LocalAggregator:
    return create_local_aggregator(
        endpoint,
        parse_spec(ORDERS_PER_MINUTE),
        "watch-orders",
        source_table=ORDERS_TABLE,
        aggregate_table=ORDERS_PER_MINUTE_TABLE,
    )


def generated_order(rng: random.Random, number: int, moment: datetime) -> dict[str, str]:
    return {
        "OrderId": f"O{number:07d}",
        "CustomerId": rng.choice(CUSTOMERS),
        "OrderDate": moment.isoformat(timespec="milliseconds"),
        "Amount": f"{rng.randrange(100, 20000) / 100:.2f}",
    }


def window(first: datetime, now: datetime, minutes: int) -> tuple[str, str]:
    """The first and last minute label of the last ``minutes`` minutes to ``now``, none before ``first``."""
    return label(Bucket.MINUTE, max(first, now - timedelta(minutes=minutes - 1))), label(Bucket.MINUTE, now)


def read_series(endpoint: Endpoint, aggregator: LocalAggregator, first: str, last: str) -> list[MinuteTotal]:
    """Every minute from ``first`` to ``last``, in order, with its count and revenue (zero without an item)."""
    keys = query_keys(aggregator.spec, [], first, last, "S")
    items = read_keys(endpoint.client("dynamodb"), aggregator.aggregate_table, aggregator.spec, keys)
    series = []
    for key in keys:
        item = items.get(key_text(key), {})
        count, revenue = item.get("OrderCount", {"N": "0"}), item.get("Revenue", {"N": "0"})
        series.append(MinuteTotal(key_text(key), int(count["N"]), Decimal(revenue["N"])))
    return series


def series_table(series: list[MinuteTotal], speed: int) -> Table:
    clock = "UTC" if speed == 1 else f"UTC, order time runs {speed}x the wall clock"
    table = Table(title=f"{ORDERS_PER_MINUTE_TABLE} ({clock})")
    for column in ("OrderDate_minute", "OrderCount", "Revenue", ""):
        table.add_column(column, justify="right" if column in ("OrderCount", "Revenue") else "left")
    top = max((row.revenue for row in series), default=Decimal(0))
    for row in series:
        bar = Bar(size=float(top) or 1.0, begin=0, end=float(row.revenue), width=BAR_WIDTH)
        table.add_row(row.minute, str(row.orders), str(row.revenue), bar)
    return table
