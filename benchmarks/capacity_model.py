"""The capacity and cost model, per million source writes: pure arithmetic over measured inputs.

What is measured (by ``benchmarks/capacity.py``, in one run): write units per record, billed by
DynamoDB's rules on the emulator; aggregate keys and transaction rounds per batch; the handler's
client CPU time per batch on this machine, SDK included (requests signed and sent over HTTP to an
emulator in another process). What is assumed, and said so in the output: the round-trip time
of one DynamoDB write from Lambda in the same region, and that Lambda's CPU share scales with
memory (the Lambda developer guide: a function has the equivalent of one vCPU at 1,769 MB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from handler.transaction import MAX_TRANSACTION_ACTIONS

from .prices import Prices

MILLION = 1_000_000
ONE_VCPU_MB = 1769
"""Memory at which Lambda allocates the equivalent of one full vCPU: "Lambda allocates CPU power in
proportion to the amount of memory configured ... At 1,769 MB, a function has the equivalent of one
vCPU" (Lambda developer guide, https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)."""
LAMBDA_MEMORIES_MB = (128, 256, 512, ONE_VCPU_MB)
"""The memory sizes the benchmark estimates a batch's CPU-bound time at."""


def cpu_share(memory_mb: int) -> float:
    """The fraction of one vCPU a function of ``memory_mb`` gets. Above 1,769 MB Lambda adds cores, but
    one thread cannot use more than one, and the handler's CPU is mostly one thread's (the GIL)."""
    return min(memory_mb / ONE_VCPU_MB, 1.0)


def lambda_seconds(cpu_seconds: float, memory_mb: int) -> float:
    """How long ``cpu_seconds`` of one full core takes at Lambda's share for ``memory_mb``."""
    return cpu_seconds / cpu_share(memory_mb)


@dataclass(frozen=True)
class Measured:
    """One workload under one setting, as benchmarks/capacity.py measured it."""

    records: int
    invocations: int
    write_units: int
    write_rounds: int
    """Sum over invocations of sequential write round trips (keys beyond the handler's concurrency queue)."""
    cpu_seconds: float
    """This process's CPU time to handle every batch through real botocore (decode, plan, fold, and
    building, signing, sending and parsing every request), on this machine's cores."""


@dataclass(frozen=True)
class Assumptions:
    memory_mb: int = 256
    write_round_trip_seconds: float = 0.010
    """A TransactWriteItems or UpdateItem from Lambda to DynamoDB in the same region: an assumption, not
    measured here (DynamoDB documents single-digit milliseconds for its own processing)."""


@dataclass(frozen=True)
class PerMillion:
    """Per million source writes."""

    invocations: float
    gb_seconds: float
    write_units: float
    duration_seconds: float
    """Mean billed duration of one invocation."""
    lambda_dollars: float
    dynamodb_dollars: float

    @property
    def dollars(self) -> float:
        return self.lambda_dollars + self.dynamodb_dollars


def per_million(measured: Measured, assumptions: Assumptions, prices: Prices) -> PerMillion:
    """Lambda requests and GB-seconds, DynamoDB write units, scaled to a million source writes.

    Stream reads cost nothing here: Lambda triggers' GetRecords calls are not charged. SQS costs
    only for bad records (see ``quarantine_dollars``).
    """
    scale = MILLION / measured.records
    # CPU and round trips are added, not overlapped: an upper bound, since one key's request is built
    # and signed while another's is in flight.
    cpu = lambda_seconds(measured.cpu_seconds, assumptions.memory_mb)
    duration = (cpu + measured.write_rounds * assumptions.write_round_trip_seconds) / measured.invocations
    invocations = measured.invocations * scale
    gb_seconds = invocations * duration * assumptions.memory_mb / 1024
    write_units = measured.write_units * scale
    return PerMillion(
        invocations=invocations,
        gb_seconds=gb_seconds,
        write_units=write_units,
        duration_seconds=duration,
        lambda_dollars=invocations / MILLION * prices.lambda_per_million_requests
        + gb_seconds * prices.lambda_per_gb_second_arm,
        dynamodb_dollars=write_units / MILLION * prices.dynamodb_per_million_write_units,
    )


def quarantine_dollars(bad_records: int, message_bytes: int, prices: Prices) -> float:
    """SQS for quarantined records: sent ten to a SendMessageBatch, each 64 KB of a request billed as
    one request, plus one receive and one delete per message when an operator drains them."""
    sends = math.ceil(bad_records / 10) * max(1, math.ceil(10 * message_bytes / 65536))
    return (sends + 2 * bad_records) / MILLION * prices.sqs_per_million_requests


def stream_read_dollars(records: int, prices: Prices) -> float:
    """A second reader (``backfill``, ``replay``) pays one stream read request unit per GetRecords call,
    which returns at most 1,000 records or 1 MB."""
    return math.ceil(records / 1000) / 100_000 * prices.stream_reads_per_100k


def ledger_storage_dollars(items_in_25_hours: int, entry_bytes: int, prices: Prices) -> float:
    """A month of ledger storage: entries live 25 hours, plus DynamoDB's 100 bytes of overhead per item."""
    return items_in_25_hours * (entry_bytes + 100) / 2**30 * prices.dynamodb_per_gb_month


PARTITION_WRITE_UNITS_PER_SECOND = 1000
"""DynamoDB's throughput of one partition: "each individual partition is limited to 1000 write units
per second" (developer guide, *Understanding DynamoDB warm throughput in different scenarios*; past it,
*Key range throughput exceeded (hot partitions)*). One aggregate key is one item, so one partition,
whatever the table's capacity or on-demand mode."""
TRANSACTION_WRITE_FACTOR = 2
"""DynamoDB writes every item of a transaction twice, to prepare and to commit (developer guide,
*Capacity management for transactions*), and bills and throttles both."""


@dataclass(frozen=True)
class KeyCeiling:
    """What one aggregate key can take, and which limit says so."""

    transactions_per_second: float
    records_per_second: float
    transactions_per_batch: int
    bound: str
    """"service time" (the key's transactions one after another) or "partition" (its write units)."""


def hot_key_ceiling(
    service_seconds: float,
    records_per_batch: int,
    max_actions: int = MAX_TRANSACTION_ACTIONS,
    aggregate_write_units: int = 1,
    partition_write_units: int = PARTITION_WRITE_UNITS_PER_SECOND,
) -> KeyCeiling:
    """One aggregate key's ceiling, however many batches are in flight.

    Every transaction that feeds a key updates its one aggregate item, so the key's transactions
    run one after another: at most ``1 / service_seconds`` a second, where ``service_seconds`` is how
    long DynamoDB holds the item per transaction (not documented; the benchmark sets it). Each also
    writes the item twice (prepare, commit) at ``aggregate_write_units`` each, against the
    partition's 1,000 a second. A transaction carries at most ``max_actions - 1`` source items
    besides the aggregate, so a batch's ``records_per_batch`` (distinct source items of this key,
    one record each) take ``ceil(records / (max_actions - 1))`` transactions, shared out evenly.

    More batches in flight do not raise it: one batch already keeps the item busy but for the
    client's own time between its transactions; others only wait, or conflict and pause.
    """
    if service_seconds <= 0 or records_per_batch < 1 or max_actions < 2:
        raise ValueError("a positive service time, at least one record, and room for the aggregate and one item")
    transactions_per_batch = math.ceil(records_per_batch / (max_actions - 1))
    by_service = 1 / service_seconds
    by_partition = partition_write_units / (TRANSACTION_WRITE_FACTOR * aggregate_write_units)
    transactions = min(by_service, by_partition)
    return KeyCeiling(
        transactions_per_second=transactions,
        records_per_second=transactions * records_per_batch / transactions_per_batch,
        transactions_per_batch=transactions_per_batch,
        bound="service time" if by_service <= by_partition else "partition",
    )
