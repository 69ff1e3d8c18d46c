"""The handler's client CPU per batch, SDK included, in units of one minimal PutItem.

Every request goes through real botocore (building, signing, HTTP, parsing) to an emulator in
another process (``remote_emulator``), and only this process's CPU is counted
(``time.process_time``, every thread of this process: the handler writes keys from a pool). The
unit, one PutItem of a one-attribute item measured in the same run on the same client settings,
makes the figure mean the same on any machine; the milliseconds do not.

This machine's speed drifts within a run (a shared virtual machine), so each batch is divided by
PutItems measured just before it, and the figure is the median of those ratios: a slow minute
slows the batch and its unit alike. ``python -m benchmarks.client_cpu`` (``make client-cpu``)
prints this table alone; ``make bench`` prints it with the rest.
"""

from __future__ import annotations

import io
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from handler.config import DEFAULT_CONCURRENCY
from handler.fold import fold
from handler.planner import plan_batch
from handler.processor import BatchProcessor, lambda_config
from handler.types import BatchResult
from ops.local.local_resources import create_local_aggregator
from ops.targets import Endpoint

from . import workloads
from .capacity_model import LAMBDA_MEMORIES_MB, lambda_seconds
from .remote_emulator import emulator_process, served_by
from .workloads import SOURCE_TABLE_ARN, Workload

BATCH = 100
TARGETS = {"invoices": 10.0, "fan-in": 5.0}
"""Issue 18's targets in PutItem-equivalents per 100-record batch; printed beside the figures, never enforced."""


@dataclass(frozen=True)
class BatchCpu:
    """One workload handled in batches of 100, medians over its batches."""

    workload: str
    batches: int
    keys_per_batch: float
    writes_per_batch: float
    """Aggregate writes (a transaction or an UpdateItem each) per batch, as the handler counts them."""
    cpu_seconds: float
    """This process's CPU for one ``handle`` call."""
    plan_fold_seconds: float
    """Plan + fold alone on the same batches (no requests built or sent)."""
    put_items: float
    """The median over batches of one batch's CPU / one PutItem's, measured just before it."""


@dataclass(frozen=True)
class ClientCpu:
    measured: BatchCpu
    target: float | None
    put_item_seconds: float
    """One minimal PutItem's CPU in the same run (the median of every measurement of it)."""

    @property
    def put_items(self) -> float:
        return self.measured.put_items

    @property
    def plan_fold_put_items(self) -> float:
        return self.measured.plan_fold_seconds / self.put_item_seconds


def cpu_workloads() -> list[tuple[Workload, float | None]]:
    """1,000 records each: the invoice workload (about 50 keys a batch) as issue 18 set its target,
    without the max measure, then as deployed, with it; two customers (2 keys a batch) and the
    single-source account balances."""
    return [
        (_first(workloads.invoices_without_extremes(), 1000), TARGETS["invoices"]),
        (_first(workloads.invoices(), 1000), None),
        (workloads.fan_in(500, customers=2), TARGETS["fan-in"]),
        (_first(workloads.single_source(), 1000), None),
    ]


def _first(workload: Workload, count: int) -> Workload:
    return replace(workload, records=workload.records[:count])


UNIT_TABLE = "put-item-unit"


def create_unit_table(endpoint: Endpoint) -> None:
    endpoint.client("dynamodb").create_table(
        TableName=UNIT_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"}],
    )


UNIT_CALLS = 30
"""PutItems measured before each batch: about four times a batch's CPU, so the unit is the steadier figure."""


class PutItemUnit:
    """Measures the unit, one minimal PutItem's CPU, with the Lambda's client settings; keeps every measurement."""

    def __init__(self, endpoint: Endpoint):
        self._client = endpoint.client("dynamodb", config=lambda_config(DEFAULT_CONCURRENCY))
        self._client.put_item(TableName=UNIT_TABLE, Item={"Id": {"S": "warm-up"}})
        self.measured: list[float] = []

    def measure(self, calls: int = UNIT_CALLS) -> float:
        """The mean CPU of ``calls`` PutItems."""
        started = time.process_time()
        for call in range(calls):
            self._client.put_item(TableName=UNIT_TABLE, Item={"Id": {"S": f"{len(self.measured)}-{call}"}})
        seconds = (time.process_time() - started) / calls
        self.measured.append(seconds)
        return seconds


def lambda_processor(endpoint: Endpoint, workload: Workload, writes_to: Endpoint | None = None) -> BatchProcessor:
    """Our handler on fresh tables for ``workload`` (made on ``endpoint``), with the Lambda's client
    settings, sending its requests to ``writes_to`` (default: ``endpoint``)."""
    aggregator = create_local_aggregator(endpoint, workload.spec, f"cpu{uuid.uuid4().hex[:8]}")
    config = replace(aggregator.handler_config("cpu"), source_table_arn=SOURCE_TABLE_ARN)
    settings = lambda_config(config.write_concurrency)
    target = writes_to or endpoint
    return BatchProcessor(
        config,
        target.client("dynamodb", config=settings),
        target.client("sqs", config=settings),
        log_stream=io.StringIO(),
    )


def handle_seconds(processor: BatchProcessor, batch: list[dict[str, Any]]) -> float:
    """This process's CPU for one batch; a failed record would make it another workload's."""
    return handled(processor, batch)[0]


def handled(processor: BatchProcessor, batch: list[dict[str, Any]]) -> tuple[float, BatchResult]:
    """This process's CPU for one batch, and what the batch did (its counters say how many writes)."""
    seconds, result = _cpu(partial(processor.process, {"Records": batch}))
    if result.response["batchItemFailures"]:
        raise RuntimeError("a batch failed, so its CPU is not the workload's")
    return float(seconds), result


def measure(processor: BatchProcessor, workload: Workload, unit: PutItemUnit) -> BatchCpu:
    """Handle ``workload`` in batches of 100 with ``processor``, each batch right after a measurement of the unit."""
    dealt = list(_batches(workload.records))
    cpu, ratios, keys, writes = [], [], [], []
    for batch in dealt:
        put_item = unit.measure()
        seconds, result = handled(processor, batch)
        cpu.append(seconds)
        ratios.append(seconds / put_item)
        keys.append(result.counters.keys)
        writes.append(result.counters.writes)
    plan_fold = [_cpu(partial(_plan_and_fold, workload, batch))[0] for batch in dealt]
    return BatchCpu(
        workload=workload.name,
        batches=len(dealt),
        keys_per_batch=statistics.mean(keys),
        writes_per_batch=statistics.mean(writes),
        cpu_seconds=statistics.median(cpu),
        plan_fold_seconds=statistics.median(plan_fold),
        put_items=statistics.median(ratios),
    )


def run(endpoint: Endpoint) -> list[ClientCpu]:
    """Each workload against ``endpoint`` (an emulator in another process)."""
    create_unit_table(endpoint)
    return measure_all(endpoint, endpoint)


STAND_IN_LATENCY_SECONDS = 0.010
"""DynamoDB's "single-digit milliseconds", rounded up, for every request alike (``stand_in_endpoint``)."""


def run_stand_in(emulator: Endpoint) -> list[ClientCpu]:
    """Each workload's requests, and the unit's, answered by ``stand_in_endpoint`` after the same
    latency; the tables are made on ``emulator`` only for their names (nothing is stored)."""
    with served_by("benchmarks.stand_in_endpoint", repr(STAND_IN_LATENCY_SECONDS)) as url:
        return measure_all(emulator, Endpoint(url))


def measure_all(emulator: Endpoint, writes_to: Endpoint) -> list[ClientCpu]:
    """Each workload on fresh tables made on ``emulator``, its requests and the unit's sent to ``writes_to``."""
    unit = PutItemUnit(writes_to)
    measured = [
        (measure(lambda_processor(emulator, workload, writes_to=writes_to), workload, unit), target)
        for workload, target in cpu_workloads()
    ]
    put_item_seconds = statistics.median(unit.measured)
    return [ClientCpu(batch_cpu, target, put_item_seconds) for batch_cpu, target in measured]


def unit_at(latency_seconds: float, rounds: int = 5) -> float:
    """One PutItem's CPU against the stand-in answering after ``latency_seconds``, median of ``rounds``."""
    with served_by("benchmarks.stand_in_endpoint", repr(latency_seconds)) as url:
        unit = PutItemUnit(Endpoint(url))
        return statistics.median(unit.measure() for _ in range(rounds))


def print_wait_cost() -> None:
    """Why the stand-in: what one PutItem costs this process when the answer comes at once, and late."""
    at_once, late = unit_at(0.0), unit_at(STAND_IN_LATENCY_SECONDS)
    print(
        f"one PutItem's client CPU, the stand-in answering at once: {at_once * 1000:.3f} ms; after "
        f"{STAND_IN_LATENCY_SECONDS * 1000:.0f} ms: {late * 1000:.3f} ms ({late / at_once:.2f}x: waiting costs CPU)"
    )


EMULATOR = "the emulator (moto)"
STAND_IN = f"a stand-in answering {{}} after {STAND_IN_LATENCY_SECONDS * 1000:.0f} ms"


def print_client_cpu(results: list[ClientCpu], server: str = EMULATOR) -> None:
    unit = results[0].put_item_seconds
    print(
        f"handler client CPU per {BATCH}-record batch, SDK included (real botocore, HTTP to {server} in another\n"
        f"process; this process's CPU only), in minimal PutItems: the median over batches of each batch / the\n"
        f"PutItems measured just before it (one = {unit * 1000:.3f} ms CPU here, median of the run); ms CPU: median\n"
        f"batch; CPU-bound time at Lambda's share (memory / 1,769 MB of a vCPU) at this machine's speed:"
    )
    memories = " ".join(f"{f'{mb} MB':>8}" for mb in LAMBDA_MEMORIES_MB)
    columns = f"{'keys':>5} {'writes':>6} {'ms CPU':>7} {'PutItems':>8} {'target':>7} {'plan+fold':>9}"
    print(f"  {'workload':<38} {columns} {memories}")
    for r in results:
        target = "-" if r.target is None else f"<= {r.target:.0f}{'' if r.put_items <= r.target else '!'}"
        m = r.measured
        at_memory = " ".join(f"{lambda_seconds(m.cpu_seconds, mb) * 1000:>6.0f}ms" for mb in LAMBDA_MEMORIES_MB)
        counts = f"{m.keys_per_batch:>5.1f} {m.writes_per_batch:>6.1f}"
        units = f"{r.put_items:>8.1f} {target:>7} {r.plan_fold_put_items:>9.1f}"
        print(f"  {m.workload:<38} {counts} {m.cpu_seconds * 1000:>7.1f} {units} {at_memory}")
    print("  (PutItems: CPU / one PutItem's; plan+fold in the same unit; '!' marks a target not met)")


def _batches(records: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(records), BATCH):
        yield records[start : start + BATCH]


def _cpu(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.process_time()
    result = run()
    return time.process_time() - started, result


def _plan_and_fold(workload: Workload, batch: list[dict[str, Any]]) -> None:
    for key in plan_batch(workload.spec, batch, time.time(), source_table_arn=SOURCE_TABLE_ARN).keys.values():
        fold(key.deltas)


def main() -> None:
    with emulator_process() as remote:
        against_emulator = run(remote)
        against_stand_in = run_stand_in(remote)
    print_client_cpu(against_emulator)
    print_client_cpu(against_stand_in, STAND_IN)
    print_wait_cost()


if __name__ == "__main__":
    main()
