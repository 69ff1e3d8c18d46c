"""The batch engine: plan, then write every key and quarantine concurrently, then report.

Writes for different keys are independent, so they run in a bounded thread pool and a batch takes
about one write round trip. A failure on one key fails only the records that touch it; the
response names the earliest record not applied, and Lambda redelivers from there. Everything
after it that was applied is skipped on redelivery by the stored positions.

The SDK settings of the clients it writes with are here too (``writer_config``), since they are
sized by its pool: the Lambda's (``main``) and the operator engine's (replay, redrive) are built
from them, so both retry and pool connections alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from botocore.config import Config

from .config import LEDGER_VARIABLE, HandlerConfig
from .errors import ConfigError
from .grouping import part_attributes
from .inline_store import InlineStore
from .ledger_store import LedgerStore
from .planner import plan_batch
from .quarantine import QuarantineQueue
from .records import decode_record, event_records
from .telemetry import BatchCounters, Writer, emit, log, summary_line
from .types import (
    BatchResult,
    Covered,
    Disposition,
    KeyOutcome,
    KeyPlan,
    PartialBatchResponse,
    Quarantined,
    ReasonKind,
    reason,
)

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

STALE_REASON = reason(
    ReasonKind.STALE_STREAM,
    "this record's stream is older than one already applied for its item (the table's stream was "
    "disabled and enabled again while both were read); it may or may not have been applied: reconcile the key",
)


class BatchProcessor:
    """The engine a Lambda container keeps between invocations: its clients, its store and its write
    pool. Each ``process`` call returns its own batch's ``BatchResult``; nothing of a batch stays here."""

    def __init__(
        self,
        config: HandlerConfig,
        dynamodb_client: DynamoDBClient,
        sqs_client: SQSClient,
        clock: Callable[[], float] = time.time,
        log_stream: Writer | None = None,
    ):
        self.config = config
        self._store = store_for(config, dynamodb_client)
        self._quarantine = QuarantineQueue(sqs_client, config.quarantine_queue_url)
        self._clock = clock
        self._log_stream = log_stream
        self._pool = ThreadPoolExecutor(max_workers=config.write_concurrency, thread_name_prefix="aggregate-write")

    def handle(self, event: Mapping[str, Any], context: Any) -> PartialBatchResponse:
        """The Lambda handler signature, so the local poller can invoke this directly."""
        return self.process(event, request_id=getattr(context, "aws_request_id", "")).response

    def process(self, event: Mapping[str, Any], request_id: str = "") -> BatchResult:
        """Handle one stream batch; what it did is returned, and nothing of it stays on the processor.

        Raises
        ------
        EventShapeError
            When the event is not a batch of stream-trigger records (see ``records.event_records``); a
            record of it that is not a DynamoDB stream record is quarantined (``planner.plan_batch``).
        """
        records = event_records(event)
        plan = plan_batch(self.config.spec, records, self._clock(), source_table_arn=self.config.source_table_arn)
        quarantine_future = self._pool.submit(self._quarantine.send, plan.quarantine)
        outcomes = self._store.apply_all(list(plan.keys.values()), self._pool)
        failed = dict(quarantine_future.result())
        for outcome in outcomes:
            self._merge(plan.counters, outcome, failed)
        late = {position: STALE_REASON for outcome in outcomes for position in outcome.stale}
        plan.counters.stale_stream_records = len(late)
        late.update((position, reason) for outcome in outcomes for position, reason in outcome.unstorable.items())
        if late:
            plan.counters.quarantined += len(late)
            items = [Quarantined(p, decode_record(records[p], p), reason) for p, reason in sorted(late.items())]
            failed.update(self._quarantine.send(items))
        plan.counters.failed_records = len(failed)
        quarantined = [item.position for item in plan.quarantine] + list(late)
        earliest = min(failed) if failed else None
        extra: dict[str, Any] = {"requestId": request_id}
        if earliest is not None:
            extra["retryFrom"] = plan.sequence_numbers[earliest]
            extra["firstError"] = failed[earliest]
        line = summary_line(plan.counters, self.config.aggregator_name, extra, self._clock())
        emit(line, self._log_stream)
        return BatchResult(
            response={
                "batchItemFailures": [] if earliest is None else [{"itemIdentifier": plan.sequence_numbers[earliest]}]
            },
            dispositions=record_dispositions(len(records), quarantined, outcomes, failed),
            covered=[
                Covered(position, key.group_token, stored)
                for key, outcome in zip(plan.keys.values(), outcomes, strict=True)
                for position, stored in outcome.covered.items()
            ],
            first_error=None if earliest is None else failed[earliest],
            counters=plan.counters,
        )

    def _merge(self, counters: BatchCounters, outcome: KeyOutcome, failed: dict[int, str]) -> None:
        counters.writes += outcome.writes
        counters.duplicates_skipped += len(outcome.duplicates)
        counters.conditional_retries += outcome.conditional_retries
        counters.transaction_conflicts += outcome.transaction_conflicts
        if outcome.error:
            log("ERROR", "aggregate write failed", self._log_stream, error=outcome.error, records=len(outcome.pending))
            for position in outcome.pending:
                failed.setdefault(position, outcome.error)


def writer_config(write_concurrency: int) -> Config:
    """A connection for each concurrent key write (plus the quarantine send and one spare), and the
    SDK's standard retries: five after the first try (botocore reads ``max_attempts`` as retries here).

    Client-side parameter validation is off, as botocore's Config reference allows "for performance
    reasons": it walked every action of a packed transaction and was a quarter of the handler's
    client CPU (``make bench``). Every request is built by the handler, not taken from input, and DynamoDB
    validates each one again: what it refuses comes back as a ValidationException, which the write
    loop narrows to the one record responsible, as before."""
    return Config(
        max_pool_connections=write_concurrency + 2,
        retries={"mode": "standard", "max_attempts": 5},
        parameter_validation=False,
    )


def lambda_config(write_concurrency: int) -> Config:
    """The Lambda's clients: ``writer_config`` with short timeouts, so a stuck connection is retried
    inside the invocation instead of running into the function's timeout (which would retry the
    whole batch)."""
    return writer_config(write_concurrency).merge(Config(connect_timeout=3, read_timeout=10))


def record_dispositions(
    count: int, quarantined: Iterable[int], outcomes: Iterable[KeyOutcome], failed: Iterable[int]
) -> list[Disposition]:
    """Each record's disposition, by position in the batch.

    A record may touch two keys (it moved its item to another group): it counts as applied if
    either change landed now, and as already applied only if every change it makes was covered.
    A failure outranks everything (the record must come again), then quarantine.
    """
    result = [Disposition.NO_CHANGE] * count
    for outcome in outcomes:
        for position in outcome.duplicates:
            if result[position] is Disposition.NO_CHANGE:
                result[position] = Disposition.ALREADY_APPLIED
        for position in outcome.applied:
            result[position] = Disposition.APPLIED
    for position in quarantined:
        result[position] = Disposition.QUARANTINED
    for position in failed:
        result[position] = Disposition.FAILED
    return result


class AggregateStore(Protocol):
    def apply_all(self, plans: Sequence[KeyPlan], pool: Executor) -> list[KeyOutcome]:
        """Each plan's outcome, in order: every key written exactly once, concurrently on ``pool``."""
        ...


def store_for(config: HandlerConfig, dynamodb_client: DynamoDBClient) -> AggregateStore:
    """Single-source aggregations keep their position inline; every other one uses the ledger."""
    spec = config.spec
    if spec.single_source:
        return InlineStore(dynamodb_client, config.aggregate_table, spec.group_by)
    if config.ledger_table is None:  # HandlerConfig refuses this already; kept for the type checker
        raise ConfigError(f"{LEDGER_VARIABLE} is not set")
    key_attributes = partial(part_attributes, spec) if spec.group_parts else None
    return LedgerStore(
        dynamodb_client,
        config.aggregate_table,
        config.ledger_table,
        spec.group_by,
        key_attributes=key_attributes,
        extremes_table=config.extremes_table_name,
        extremes=len(spec.extremes),
    )
