"""`emulator`: a persistent local stack for the other commands to run against, and the runbook's drill."""

from __future__ import annotations

import time
from contextlib import ExitStack
from urllib.parse import urlsplit

from rich.console import Console

from ..engine import Discard
from ..targets import DEFAULT_ENDPOINT, LOCAL_AGGREGATE_TABLE, LOCAL_AGGREGATOR, LOCAL_SOURCE_TABLE, Endpoint
from .demo import ConsoleLines, poller_for
from .drill import DENIED, WriteDenial
from .emulator import moto_server
from .faultproxy import fault_proxy
from .local_resources import create_invoice_aggregator
from .stop_request import StopRequest, stop_requested_by_signals

POLL_SECONDS = 0.2
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def is_default_endpoint(url: str) -> bool:
    """Whether the commands, given no --endpoint-url, reach the emulator listening at ``url`` (on loopback)."""
    try:
        default = urlsplit(DEFAULT_ENDPOINT)
        return default.scheme == "http" and default.hostname in LOOPBACK_NAMES and default.port == urlsplit(url).port
    except ValueError:  # STREAM_AGGREGATOR_ENDPOINT with a port that is not a number: the commands refuse it
        return False


def run_emulator(
    port: int,
    console: Console,
    seconds: float | None = None,
    *,
    deny_writes: float | None = None,
    verbose: bool = False,
) -> None:
    """moto on a fixed port, the invoice tables, the poller running; until Ctrl-C or ``seconds``.

    With ``deny_writes``, the drill (``drill.WriteDenial``); with ``verbose``, the handler's log lines.
    Ctrl-C is taken between polls (``stop_request``), so it never lands inside a batch or a lock."""
    with stop_requested_by_signals() as stop:
        _serve(port, console, stop, seconds, deny_writes=deny_writes, verbose=verbose)
    stop.stop_now()


def _serve(
    port: int,
    console: Console,
    stop: StopRequest,
    seconds: float | None,
    *,
    deny_writes: float | None,
    verbose: bool,
) -> None:
    """The emulator until ``stop`` is requested (checked between polls) or ``seconds`` have passed."""
    with moto_server(port) as endpoint, ExitStack() as stack:
        aggregator = create_invoice_aggregator(endpoint, LOCAL_AGGREGATOR)
        denial, handler_endpoint = None, endpoint
        if deny_writes is not None:
            proxy = stack.enter_context(fault_proxy(endpoint.url, DENIED))
            denial, handler_endpoint = WriteDenial(proxy, deny_writes), Endpoint(proxy.url)
        log_stream = ConsoleLines(console) if verbose else Discard()
        poller = poller_for(endpoint, aggregator, log_stream, handler_endpoint, aggregator_name=LOCAL_AGGREGATOR)
        started = f"emulator on {endpoint.url}: {LOCAL_SOURCE_TABLE} -> {LOCAL_AGGREGATE_TABLE}; Ctrl-C stops it"
        console.print(started, soft_wrap=True)
        if not is_default_endpoint(endpoint.url):
            console.print(
                f"the other commands look for the emulator at {DEFAULT_ENDPOINT}: give them --endpoint-url "
                f"{endpoint.url} (or set STREAM_AGGREGATOR_ENDPOINT to it)",
                soft_wrap=True,
            )
        if deny_writes is not None:
            console.print(f"drill: the handler's writes will be refused for {deny_writes:g} s from its first batch")
        deadline = None if seconds is None else time.monotonic() + seconds
        while not stop.requested and (deadline is None or time.monotonic() < deadline):
            polled_at = time.monotonic()
            poller.poll_once(flush=False)
            for line in denial.after_poll(poller.stats, polled_at) if denial else []:
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            time.sleep(POLL_SECONDS)
