"""`emulator`: a persistent local stack for the other commands to run against."""

from __future__ import annotations

import time

from rich.console import Console

from ..endpoint import LOCAL_AGGREGATE_TABLE, LOCAL_AGGREGATOR, LOCAL_SOURCE_TABLE
from ..engine import Discard
from .demo import poller_for
from .emulator import moto_server
from .local_resources import create_invoice_aggregator


def run_emulator(port: int, console: Console, seconds: float | None = None) -> None:
    """moto on a fixed port, the invoice tables, the poller running; until Ctrl-C or ``seconds``."""
    with moto_server(port) as endpoint:
        aggregator = create_invoice_aggregator(endpoint, LOCAL_AGGREGATOR)
        poller = poller_for(endpoint, aggregator, log_stream=Discard())
        console.print(f"emulator on {endpoint.url}: {LOCAL_SOURCE_TABLE} -> {LOCAL_AGGREGATE_TABLE}; Ctrl-C stops it")
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            poller.poll_once(flush=False)
            time.sleep(0.2)
