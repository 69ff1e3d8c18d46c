"""`demo --watch`: generated transactions streaming through the real handler, totals live."""

from __future__ import annotations

import random
import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from ..engine import Discard
from .demo import poller_for, read_totals, totals_table, write_transactions
from .emulator import moto_server
from .local_resources import create_invoice_aggregator
from .poller import PollerStats

INVOICES = [f"INV-{number:03d}" for number in range(1, 9)]


def run_watch(
    console: Console, seconds: float | None = None, rate: int = 40, seed: int = 0
) -> tuple[dict[str, dict[str, Any]], int]:
    """Write about ``rate`` transactions a second until ``seconds`` pass (or Ctrl-C).

    Returns the last totals shown and how many transactions were written.
    """
    rng = random.Random(seed)
    with moto_server() as endpoint:
        aggregator = create_invoice_aggregator(endpoint, "watch")
        poller = poller_for(endpoint, aggregator, log_stream=Discard())
        started, written = time.monotonic(), 0
        totals: dict[str, dict[str, Any]] = {}
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while seconds is None or time.monotonic() - started < seconds:
                rows = [_transaction(rng, written + i) for i in range(max(1, rate // 4))]
                write_transactions(endpoint, aggregator, rows)
                written += len(rows)
                poller.poll_once(flush=True)
                totals = read_totals(endpoint, aggregator)
                live.update(
                    Group(totals_table(totals), Text(_status(poller.stats, written, time.monotonic() - started)))
                )
                time.sleep(0.25)
    return totals, written


def _transaction(rng: random.Random, number: int) -> dict[str, str]:
    return {
        "InvoiceNumber": rng.choice(INVOICES),
        "TransactionId": f"T{number:07d}",
        "Amount": f"{rng.randrange(100, 50000) / 100:.2f}",
        "InvoiceDate": time.strftime("%d%m%Y"),
    }


def _status(stats: PollerStats, written: int, elapsed: float) -> str:
    lag = time.time() - stats.newest_created_at if stats.newest_created_at else 0.0
    return (
        f"written {written}  delivered {stats.records_delivered}  "
        f"throughput {stats.records_delivered / max(elapsed, 1e-9):.0f} records/s  stream lag {lag:.2f} s"
    )
