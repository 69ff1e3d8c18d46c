"""`demo --watch`: generated transactions and orders streaming through the real handler, shown live.

Two aggregations, each on its own table and stream with its own local poller (one reader per shard,
as each would have its own event source mapping in AWS): the invoice totals, and the orders'
revenue and count per minute (``orders_per_minute``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from ..engine import Discard
from ..targets import Endpoint
from .demo import poller_for, read_totals, totals_table, write_transactions
from .emulator import moto_server
from .local_resources import create_invoice_aggregator
from .orders_per_minute import (
    MinuteTotal,
    OrderClock,
    create_orders_aggregator,
    generated_order,
    read_series,
    series_table,
    window,
)
from .poller import PollerStats

INVOICES = [f"INV-{number:03d}" for number in range(1, 9)]
TICK_SECONDS = 0.25


@dataclass
class WatchResult:
    """What the view showed last, and what was written."""

    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: int = 0
    """Invoice transactions."""
    series: list[MinuteTotal] = field(default_factory=list)
    orders_written: int = 0


def run_watch(
    console: Console,
    seconds: float | None = None,
    rate: int = 40,
    seed: int = 0,
    speed: int = 1,
    minutes: int = 10,
    endpoint: Endpoint | None = None,
) -> WatchResult:
    """Each second write about ``rate`` transactions and ``rate`` orders until ``seconds`` pass (or Ctrl-C).

    Orders are dated by an ``OrderClock`` at ``speed``; the view shows the last ``minutes`` minutes.
    ``endpoint`` is an emulator already running (the tests'); without one an embedded one is started.
    """
    rng = random.Random(seed)
    result = WatchResult()
    with _emulator(endpoint) as emulator:
        invoices, orders = create_invoice_aggregator(emulator, "watch"), create_orders_aggregator(emulator)
        invoice_poller = poller_for(emulator, invoices, log_stream=Discard())
        order_poller = poller_for(emulator, orders, log_stream=Discard())
        started, clock = time.monotonic(), OrderClock(started=time.time(), speed=speed)
        first = clock.now()
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while seconds is None or time.monotonic() - started < seconds:
                per_tick = max(1, rate // 4)
                transactions = [_transaction(rng, result.written + i) for i in range(per_tick)]
                write_transactions(emulator, invoices, transactions)
                result.written += len(transactions)
                new_orders = [generated_order(rng, result.orders_written + i, clock.now()) for i in range(per_tick)]
                write_transactions(emulator, orders, new_orders)  # the same shape: Amount a number, the rest text
                result.orders_written += len(new_orders)
                invoice_poller.poll_once(flush=True)
                order_poller.poll_once(flush=True)
                result.totals = read_totals(emulator, invoices)
                result.series = read_series(emulator, orders, *window(first, clock.now(), minutes))
                elapsed = time.monotonic() - started
                status = [
                    _status("transactions", invoice_poller.stats, result.written, elapsed),
                    _status("orders", order_poller.stats, result.orders_written, elapsed),
                ]
                live.update(
                    Group(
                        totals_table(result.totals, invoices.spec),
                        series_table(result.series, speed),
                        Text("\n".join(status)),
                    )
                )
                time.sleep(TICK_SECONDS)
    return result


@contextmanager
def _emulator(endpoint: Endpoint | None) -> Iterator[Endpoint]:
    with moto_server() if endpoint is None else nullcontext(endpoint) as running:
        yield running


def _transaction(rng: random.Random, number: int) -> dict[str, str]:
    return {
        "InvoiceNumber": rng.choice(INVOICES),
        "TransactionId": f"T{number:07d}",
        "Amount": f"{rng.randrange(100, 50000) / 100:.2f}",
        "InvoiceDate": time.strftime("%d%m%Y"),
    }


def _status(what: str, stats: PollerStats, written: int, elapsed: float) -> str:
    lag = time.time() - stats.newest_created_at if stats.newest_created_at else 0.0
    return (
        f"{what:<12}  written {written}  delivered {stats.records_delivered}  "
        f"{stats.records_delivered / max(elapsed, 1e-9):.0f} records/s  stream lag {lag:.2f} s"
    )
