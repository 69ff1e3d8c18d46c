"""A local DynamoDB endpoint that serializes writes per item, with a set service time: the hot-key benchmark's.

moto serves one request at a time and never answers a conflict, so a hot key costs nothing on it.
This proxy, in a process of its own with moto behind it (so the benchmark's process measures only
the clients), plays what DynamoDB does to concurrent writes of one item (``hot_key_locks`` says
which documented rules, and which not): a write takes its items' locks without waiting, or loses
as DynamoDB's loser does; a winner holds them for the service time, is forwarded to moto, and
then releases them and gets moto's answer. The hold is the longer of the service time and moto's
own time, and ``Stats`` reports the mean so a run shows which it was.

Forwarding to moto goes one request at a time anyway: the emulator behind it is
``ops/local/emulator.py``'s serial server (moto's threaded server does not make concurrent writes
atomic, a moto quirk), with its item-level transaction rollback (another: moto deep-copies every
table a transaction touches, once per action, and the ledger grows to thousands of entries here).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler

import requests

from ops.local.emulator import item_level_transaction_rollback, moto_server
from ops.local.forwarding import JSON_TYPE, ForwardingHandler, LocalProxy, cancellation_body
from ops.targets import Endpoint

from .hot_key_locks import (
    SINGLE_WRITES,
    TRANSACT_WRITE_ITEMS,
    Holder,
    ItemId,
    LockTable,
    Verdict,
    conflict_body,
    operation_item,
    transaction_items,
)
from .remote_emulator import served_by

STATS_PATH = "/hot-key/stats"


@dataclass
class Stats:
    """Counted by the endpoint since it started; a run subtracts two readings."""

    committed: int = 0
    """Transactions moto applied."""
    committed_actions: int = 0
    """Their actions: less one aggregate update each, the ledger entries, so the records of a batch
    of distinct source items feeding one key."""
    cancelled: int = 0
    """Transactions answered with a TransactionConflict cancellation."""
    refused: int = 0
    """Transactions moto answered with an error (a failed condition, say)."""
    single_conflicts: int = 0
    """Single-item writes answered with TransactionConflictException."""
    holds: int = 0
    held_seconds: float = 0.0
    """Sum of the time writes held their items: the service time, or moto's time when longer."""
    moto_seconds: float = 0.0
    """Sum of moto's own time for those writes (forwarded while held)."""

    def since(self, earlier: Stats) -> Stats:
        now, before = asdict(self), asdict(earlier)
        return Stats(**{name: now[name] - before[name] for name in now})


class HotKeyProxy(LocalProxy):
    """Runs in a thread of the endpoint's process; ``url`` is what the clients are given."""

    def __init__(self, upstream: str, service_seconds: float):
        self.service_seconds = service_seconds
        self.stats = Stats()
        self._locks = LockTable()
        self._changed = threading.Condition()
        self._key_names: dict[str, list[str]] = {}
        self._describer = Endpoint(upstream).client("dynamodb")
        super().__init__(upstream)

    def key_names(self, table: str) -> list[str]:
        """The table's key attributes, asked of moto once (a Put names its item, not its key)."""
        if table not in self._key_names:
            schema = self._describer.describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [element["AttributeName"] for element in schema]
        return self._key_names[table]

    def acquire(self, items: list[ItemId], holder: Holder) -> tuple[int, ...] | None:
        """None once every item is held; else the indexes an ongoing transaction holds (the conflict)."""
        with self._changed:
            while True:
                decision = self._locks.try_acquire(items, holder)
                if decision.verdict is Verdict.GRANTED:
                    return None
                if decision.verdict is Verdict.CONFLICT:
                    if holder is Holder.TRANSACTION:
                        self.stats.cancelled += 1
                    else:
                        self.stats.single_conflicts += 1
                    return decision.conflicting
                self._changed.wait()

    def release(self, items: list[ItemId], held_seconds: float, moto_seconds: float) -> None:
        with self._changed:
            self._locks.release(items)
            self.stats.holds += 1
            self.stats.held_seconds += held_seconds
            self.stats.moto_seconds += moto_seconds
            self._changed.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(ForwardingHandler):
            upstream = proxy.upstream
            forward_timeout = 60

            def do_GET(self) -> None:
                if self.path == STATS_PATH:
                    with proxy._changed:
                        body = json.dumps(asdict(proxy.stats)).encode()
                    return self._reply(200, body, {"Content-Type": "application/json"})
                return self._reply(404, b"", {})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                if target == TRANSACT_WRITE_ITEMS:
                    return self._write(body, transaction_items(json.loads(body), proxy.key_names), Holder.TRANSACTION)
                if target in SINGLE_WRITES:
                    return self._write(body, [operation_item(json.loads(body), proxy.key_names)], Holder.SINGLE)
                return self._relay(self._forward(body))  # reads, and what is not modelled, pass

            def _write(self, body: bytes, items: list[ItemId], holder: Holder) -> None:
                conflicting = proxy.acquire(items, holder)
                if conflicting is not None:
                    answer = cancellation_body(len(items), conflicting) if holder is Holder.TRANSACTION else None
                    return self._reply(400, answer or conflict_body(), JSON_TYPE)
                started = time.perf_counter()
                forwarded = started
                try:
                    response = self._forward(body)
                    forwarded = time.perf_counter()
                    left = proxy.service_seconds - (forwarded - started)
                    if left > 0:
                        time.sleep(left)
                finally:
                    proxy.release(items, time.perf_counter() - started, forwarded - started)
                if holder is Holder.TRANSACTION:
                    with proxy._changed:
                        if response.status_code == 200:
                            proxy.stats.committed += 1
                            proxy.stats.committed_actions += len(items)
                        else:
                            proxy.stats.refused += 1
                return self._relay(response)

        return Handler


@dataclass(frozen=True)
class HotKeyEndpoint:
    """The endpoint as the benchmark sees it: where to send requests, and its counts."""

    endpoint: Endpoint
    service_seconds: float

    def stats(self) -> Stats:
        response = requests.get(self.endpoint.url + STATS_PATH, timeout=10)
        response.raise_for_status()
        return Stats(**response.json())


@contextmanager
def hot_key_endpoint(service_seconds: float) -> Iterator[HotKeyEndpoint]:
    """Start ``python -m benchmarks.hot_key_endpoint`` (moto and the proxy) and yield it; stop it on exit."""
    with served_by(__name__, repr(service_seconds)) as url:
        yield HotKeyEndpoint(Endpoint(url), service_seconds)


def main() -> None:
    service_seconds = float(sys.argv[1])
    with moto_server() as moto, item_level_transaction_rollback():
        proxy = HotKeyProxy(moto.url, service_seconds).start()
        try:
            print(proxy.url, flush=True)
            sys.stdin.read()  # until the parent closes it
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
