"""Ledger mode: each aggregate key's folded records land as transactions with their ledger entries.

A batch's keys are packed several to a TransactWriteItems (``packing``), each key's actions whole,
and the packed transactions are sent concurrently: a batch over 50 keys is two calls, not 50. A
cancelled transaction says, action by action, why (see ``transaction.read_cancellation``), and so
each key of it is settled on its own: entries whose condition failed hold records already applied,
which are dropped before the rest is written again; keys whose reasons are all ``None`` were not
written and are packed again; a key that met a conflict or throttling, or that DynamoDB refused,
leaves the packing and is written alone (paused and retried, or isolated record by record), so
one hot key never holds the others back. Anything else fails the key's records, which Lambda then
redelivers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from .attributes import AttributeValue
from .errors import describe_error
from .fold import Delta, KeyPlan, split_applied
from .isolation import isolate
from .outcome import REFUSED_REASON, UNSTORABLE_REASON, KeyOutcome
from .packing import Packed, Unit, pack
from .position import ledger_id
from .transaction import (
    LEDGER_KEY,
    LEDGER_POSITION,
    RETRYABLE_REASONS,
    AggregateTarget,
    Cancellation,
    item_chunks,
    read_cancellation,
    reason_code,
    transaction,
)

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_PAUSED_RETRIES = 8
"""Conflict or throttling retries per transaction before its records are failed back to Lambda."""
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 1.0


class LedgerStore:
    """Writes aggregates fed by many source items: a transaction per key and chunk of items."""

    def __init__(
        self,
        client: DynamoDBClient,
        aggregate_table: str,
        ledger_table: str,
        group_by: str,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        key_attributes: Callable[[AttributeValue], Mapping[str, AttributeValue]] | None = None,
    ):
        """``key_attributes``: a composite group's part attributes from its key (``grouping.part_attributes``)."""
        self._key_attributes = key_attributes
        self._client = client
        self._aggregate_table = aggregate_table
        self._ledger_table = ledger_table
        self._group_by = group_by
        self._sleep = sleep
        self._jitter = jitter

    def apply(self, plan: KeyPlan) -> KeyOutcome:
        """Apply one key's ``plan`` exactly once, alone; never raises, failures are in the outcome."""
        key = self._key(plan)
        self._alone(key)
        key.close()
        return key.outcome

    def apply_all(self, plans: Sequence[KeyPlan], pool: Executor) -> list[KeyOutcome]:
        """Apply every key's plan exactly once, packed; never raises, failures are in the outcomes.

        Ends: every cancelled transaction takes at least one key out of the packing or removes
        records from one (a cancellation naming no action is answered by writing each key alone).
        """
        keys = [self._key(plan) for plan in plans]
        alone: list[Future[None]] = []

        def leave(index: int, paused: int = 0) -> None:
            keys[index].packed = False
            alone.append(pool.submit(self._alone, keys[index], paused))

        while True:
            units: list[Unit] = []
            for index, key in enumerate(keys):
                if not key.packed or not key.next_pending():
                    continue
                try:
                    units.append(Unit(index, transaction(key.target, key.pending)))
                except ArithmeticError:  # the records' sum cannot be exact in 38 digits: alone, it is isolated
                    leave(index)
            if not units:
                break
            packs = pack(units)
            for packed, error in zip(packs, pool.map(self._send, packs), strict=True):
                keys[packed.units[0].owner].outcome.writes += 1
                self._after(packed, error, keys, leave)
        for future in alone:
            future.result()
        for key in keys:
            key.close()
        return [key.outcome for key in keys]

    def _key(self, plan: KeyPlan) -> _Key:
        parts = self._key_attributes(plan.group_value) if self._key_attributes else {}
        target = AggregateTarget(
            self._aggregate_table, self._ledger_table, self._group_by, plan.group_token, plan.group_value, parts
        )
        return _Key(target, item_chunks(plan.deltas))

    def _send(self, packed: Packed) -> ClientError | BotoCoreError | None:
        try:
            self._client.transact_write_items(**packed.request)
        except (ClientError, BotoCoreError) as error:
            return error
        return None

    def _after(
        self, packed: Packed, error: ClientError | BotoCoreError | None, keys: list[_Key], leave: Callable[..., None]
    ) -> None:
        """Settle each key of a packed transaction by its own slice of the cancellation reasons."""
        if error is None:
            for unit in packed.units:
                keys[unit.owner].landed()
            return
        if isinstance(error, BotoCoreError):  # as a key alone: failed back, Lambda redelivers
            for unit in packed.units:
                keys[unit.owner].fail(describe_error(error))
            return
        slices = _reason_slices(packed, error)
        if slices is None:  # refused or throttled as a whole: written alone, each key's answer is its own
            for unit in packed.units:
                leave(unit.owner)
            return
        for unit, reasons in zip(packed.units, slices, strict=True):
            key = keys[unit.owner]
            if RETRYABLE_REASONS.intersection(reason_code(reason) for reason in reasons):
                key.outcome.transaction_conflicts += 1
                leave(unit.owner, paused=1)
                continue
            cancellation = read_cancellation(reasons, unit.transaction.items)
            if cancellation.error_code == "ValidationError":  # alone, the culprit is isolated
                leave(unit.owner)
            elif cancellation.error:
                key.fail(cancellation.error)
            elif cancellation.stored or cancellation.unread:
                key.pending = self._settle(key.target, key.pending, cancellation, key.outcome)
            # else every reason is None: not written, packed again in the next round

    def _alone(self, key: _Key, paused: int = 0) -> None:
        """The key's remaining records, one transaction per chunk; ``paused``: the conflicts already met."""
        if paused:
            self._sleep(self._backoff(paused))
        while key.next_pending():
            pending, key.pending = key.pending, []
            self._apply_chunk(key.target, pending, key.outcome, paused)
            paused = 0

    def _apply_chunk(self, target: AggregateTarget, pending: list[Delta], outcome: KeyOutcome, paused: int = 0) -> None:
        """Ends: each settled cancellation removes records (or fails them), and pauses are capped."""

        def write(records: list[Delta]) -> None:
            self._apply_chunk(target, records, outcome)

        while pending:
            try:
                request = transaction(target, pending)
            except ArithmeticError:  # the records' sum cannot be exact in 38 digits
                isolate(outcome, pending, UNSTORABLE_REASON, write)
                return
            try:
                outcome.writes += 1
                self._client.transact_write_items(**request.request)
            except ClientError as error:
                cancellation = _cancellation(error, request.items)
                refusal = _refusal(error, cancellation)
                if refusal:  # refused as invalid: no retry can succeed
                    isolate(outcome, pending, f"{REFUSED_REASON}: {refusal}", write)
                    return
                if cancellation is None or cancellation.error:
                    _failed(outcome, target, pending, (cancellation and cancellation.error) or describe_error(error))
                    return
                if cancellation.stored or cancellation.unread:
                    pending = self._settle(target, pending, cancellation, outcome)
                    continue
                paused += 1
                outcome.transaction_conflicts += 1
                if paused > MAX_PAUSED_RETRIES:
                    _failed(outcome, target, pending, "transaction kept conflicting")
                    return
                self._sleep(self._backoff(paused))
            except BotoCoreError as error:
                _failed(outcome, target, pending, describe_error(error))
                return
            else:
                outcome.applied.extend(delta.position for delta in pending)
                return

    def _settle(
        self, target: AggregateTarget, pending: list[Delta], cancellation: Cancellation, outcome: KeyOutcome
    ) -> list[Delta]:
        """Drop what the entries whose condition failed already cover; returns what is left to write."""
        try:
            stored = {**cancellation.stored, **self._read_entries(target, cancellation.unread)}
        except (ClientError, BotoCoreError) as error:
            _failed(outcome, target, pending, describe_error(error))
            return []
        outcome.conditional_retries += 1
        split = split_applied(pending, stored)
        if len(split.pending) == len(pending):
            _failed(outcome, target, pending, "a ledger condition failed below these records: another writer?")
            return []
        outcome.skip_applied(split.applied, stored)
        outcome.stale.extend(delta.position for delta in split.stale)
        return split.pending

    def _read_entries(self, target: AggregateTarget, items: list[str]) -> dict[str, str]:
        """The positions of entries whose condition failed but did not come back with the error."""
        stored: dict[str, str] = {}
        for item in items:
            key = {LEDGER_KEY: {"S": ledger_id(target.group_token, item)}}
            entry = self._client.get_item(TableName=self._ledger_table, Key=key, ConsistentRead=True).get("Item", {})
            position = entry.get(LEDGER_POSITION, {}).get("S")
            if isinstance(position, str):
                stored[item] = position
        return stored

    def _backoff(self, attempt: int) -> float:
        """Full jitter: concurrent writers of one hot key spread out instead of colliding again."""
        return self._jitter() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt)


@dataclass
class _Key:
    """One key's progress through a batch: what is left of its current chunk, then its later chunks."""

    target: AggregateTarget
    chunks: list[list[Delta]]
    pending: list[Delta] = field(default_factory=list)
    outcome: KeyOutcome = field(default_factory=KeyOutcome)
    packed: bool = True
    """False once the key is written alone."""

    def next_pending(self) -> list[Delta]:
        """The records to write next: the current chunk's rest, or the next chunk; none after a failure."""
        while not self.pending and self.chunks and not self.outcome.error:
            self.pending = self.chunks.pop(0)
        return [] if self.outcome.error else self.pending

    def landed(self) -> None:
        self.outcome.applied.extend(delta.position for delta in self.pending)
        self.pending = []

    def fail(self, detail: str) -> None:
        _failed(self.outcome, self.target, self.pending, detail)
        self.pending = []

    def close(self) -> None:
        """After a failure, the later chunks are left pending: Lambda redelivers the key's records in order."""
        if self.outcome.error:
            self.outcome.pending.extend(delta.position for chunk in self.chunks for delta in chunk)
            self.chunks = []


def _reason_slices(packed: Packed, error: ClientError) -> list[list[object]] | None:
    """Each key's cancellation reasons, or None when the error names no action at fault."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    slices = packed.reasons(error.response.get("CancellationReasons", []))
    if slices is None or all(reason_code(reason) == "None" for reasons in slices for reason in reasons):
        return None
    return slices


def _cancellation(error: ClientError, items: list[str | None]) -> Cancellation | None:
    """The cancellation's reasons, or None when the error is not a cancelled transaction."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return read_cancellation(error.response.get("CancellationReasons", []), items)


def _refusal(error: ClientError, cancellation: Cancellation | None) -> str | None:
    """DynamoDB's message when it refused the write as invalid (no retry can succeed), else None."""
    if cancellation is not None:
        return cancellation.error if cancellation.error_code == "ValidationError" else None
    return describe_error(error) if error.response.get("Error", {}).get("Code") == "ValidationException" else None


def _failed(outcome: KeyOutcome, target: AggregateTarget, pending: list[Delta], detail: str) -> None:
    outcome.fail([delta.position for delta in pending], f"aggregate {target.group_token}: {detail}")
