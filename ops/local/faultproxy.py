"""A loopback HTTP proxy in front of the emulator that breaks DynamoDB writes on purpose.

The tests and the benchmarks inject their faults with it, and ``python -m ops emulator --deny-writes``
refuses the local handler's writes with it for a drill of the failure runbook: one implementation,
kept here because the local tools ship and the tests do not.

It plays the network and service faults a Lambda meets in production:

- ``lose_rate``: the write never reaches DynamoDB and the client gets a 500;
- ``applied_then_error_rate``: the write IS applied, but the client gets a 500 (it will retry);
- ``outage_rate`` / ``outage_length``: every targeted request fails for a while, long enough to
  exhaust the SDK's retries when ``outage_length`` is at least its attempt count;
- ``conflict_rate``: a TransactWriteItems is cancelled with ``TransactionConflict``, as DynamoDB
  cancels one that meets another transaction on one of its items (moto never does: it serves one
  request at a time);
- ``latency_seconds``: each targeted request waits this long first (the benchmarks' round trip);
- ``refuse_with``: every targeted request is answered with this DynamoDB error code, as DynamoDB
  answers it (e.g. ``TrimmedDataAccessException`` for stream records past retention, which moto
  never trims).

Every injected fault is counted, so a test can prove its faults actually happened.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from .forwarding import ERROR_TYPE, JSON_TYPE, ForwardingHandler, LocalProxy, cancellation_body

UPDATE_ITEM = "DynamoDB_20120810.UpdateItem"
TRANSACT_WRITE_ITEMS = "DynamoDB_20120810.TransactWriteItems"
AGGREGATE_WRITES = frozenset({UPDATE_ITEM, TRANSACT_WRITE_ITEMS})
"""What the handler writes with: UpdateItem in single-source mode, transactions in ledger mode."""
GET_SHARD_ITERATOR = "DynamoDBStreams_20120810.GetShardIterator"
GET_RECORDS = "DynamoDBStreams_20120810.GetRecords"
_ERROR_BODY = b'{"__type":"com.amazon.coral.service#InternalFailure","message":"injected by the fault proxy"}'


@dataclass
class FaultPlan:
    targets: frozenset[str] = AGGREGATE_WRITES
    lose_rate: float = 0.0
    applied_then_error_rate: float = 0.0
    outage_rate: float = 0.0
    outage_length: int = 0
    conflict_rate: float = 0.0
    latency_seconds: float = 0.0
    refuse_with: str | None = None
    seed: int = 0


@dataclass
class FaultCounts:
    forwarded: int = 0
    lost: int = 0
    applied_then_error: int = 0
    outage_errors: int = 0
    outages: int = 0
    conflicts: int = 0
    refused: int = 0
    intervals: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) of every targeted request, for counting sequential round trips."""


@dataclass
class _State:
    plan: FaultPlan
    counts: FaultCounts = field(default_factory=FaultCounts)
    outage_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    random: random.Random = field(default_factory=random.Random)

    def decide(self, transaction: bool) -> str:
        """One of forward, lose, applied_then_error, outage, conflict, refuse; counted under the lock."""
        with self.lock:
            plan = self.plan
            if plan.refuse_with:
                self.counts.refused += 1
                return "refuse"
            if transaction and plan.conflict_rate and self.random.random() < plan.conflict_rate:
                self.counts.conflicts += 1
                return "conflict"
            if self.outage_left == 0 and plan.outage_length and self.random.random() < plan.outage_rate:
                self.outage_left = plan.outage_length
                self.counts.outages += 1
            if self.outage_left:
                self.outage_left -= 1
                self.counts.outage_errors += 1
                return "outage"
            roll = self.random.random()
            if roll < plan.lose_rate:
                self.counts.lost += 1
                return "lose"
            if roll < plan.lose_rate + plan.applied_then_error_rate:
                self.counts.applied_then_error += 1
                return "applied_then_error"
            self.counts.forwarded += 1
            return "forward"


class FaultProxy(LocalProxy):
    """Runs in a thread; ``url`` is the endpoint to give the client under test."""

    def __init__(self, upstream: str, plan: FaultPlan | None = None):
        self._state = _State(plan=plan or FaultPlan())
        self._state.random.seed(self._state.plan.seed)
        super().__init__(upstream)

    @property
    def counts(self) -> FaultCounts:
        return self._state.counts

    def set_plan(self, plan: FaultPlan) -> None:
        """Change the faults mid-test: break, then fix, what the client under test meets."""
        with self._state.lock:
            self._state.plan = plan
            self._state.outage_left = 0
            self._state.random.seed(plan.seed)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        state = self._state

        class Handler(ForwardingHandler):
            upstream = self.upstream

            def do_POST(self) -> None:
                started = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                targeted = self.headers.get("X-Amz-Target", "") in state.plan.targets
                try:
                    self._proxy(body, targeted)
                finally:
                    if targeted:
                        with state.lock:
                            state.counts.intervals.append((started, time.perf_counter()))

            def _proxy(self, body: bytes, targeted: bool) -> None:
                if targeted and state.plan.latency_seconds:
                    threading.Event().wait(state.plan.latency_seconds)
                target = self.headers.get("X-Amz-Target", "")
                action = state.decide(target == TRANSACT_WRITE_ITEMS) if targeted else "forward"
                if action in ("lose", "outage"):
                    return self._reply(500, _ERROR_BODY, JSON_TYPE)
                if action == "conflict":
                    return self._reply(400, _conflict_body(body), JSON_TYPE)
                if action == "refuse":
                    return self._reply(400, _refusal_body(state.plan.refuse_with or ""), JSON_TYPE)
                response = self._forward(body)
                if action == "applied_then_error":
                    return self._reply(500, _ERROR_BODY, JSON_TYPE)
                return self._relay(response)

        return Handler


def _conflict_body(request: bytes) -> bytes:
    """DynamoDB's cancellation for a transaction that met another one on its first item."""
    return cancellation_body(len(json.loads(request).get("TransactItems", [])) or 1, [0])


def _refusal_body(code: str) -> bytes:
    return json.dumps({"__type": f"{ERROR_TYPE}{code}", "message": "injected by the fault proxy"}).encode()


def sequential_round_trips(intervals: list[tuple[float, float]]) -> int:
    """The longest chain of requests each starting after the previous ended: how many round
    trips the caller waited for one after another (greedy interval scheduling)."""
    chain, last_end = 0, float("-inf")
    for start, end in sorted(intervals, key=lambda interval: interval[1]):
        if start >= last_end:
            chain, last_end = chain + 1, end
    return chain


@contextmanager
def fault_proxy(upstream: str, plan: FaultPlan | None = None) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, plan).start()
    try:
        yield proxy
    finally:
        proxy.stop()
