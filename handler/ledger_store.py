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
from .packing import Packed, Unit, pack
from .position import ledger_id
from .transaction import (
    LEDGER_KEY,
    LEDGER_POSITION,
    AggregateTarget,
    Cancellation,
    Transaction,
    item_chunks,
    items_per_transaction,
    read_cancellation,
    reason_code,
    transaction,
)
from .types import Delta, KeyOutcome, KeyPlan
from .wire import register
from .write_loop import APPLIED, Answer, Verdict, WriteLoop, fail

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb import DynamoDBClient


class LedgerStore(WriteLoop[AggregateTarget, Transaction]):
    """Writes aggregates fed by many source items: keys packed into transactions, each key whole."""

    def __init__(
        self,
        client: DynamoDBClient,
        aggregate_table: str,
        ledger_table: str,
        group_by: str,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        key_attributes: Callable[[AttributeValue], Mapping[str, AttributeValue]] | None = None,
        extremes_table: str | None = None,
        extremes: int = 0,
    ):
        """``key_attributes``: a composite group's part attributes from its key (``grouping.part_attributes``);
        ``extremes``: the aggregation's min/max measures, whose entries go to ``extremes_table``."""
        super().__init__(sleep, jitter)
        self._extremes_table = extremes_table
        self._per_chunk = items_per_transaction(extremes)
        self._key_attributes = key_attributes
        self._client = client
        register(client)  # packed transactions go as the text packing encoded (handler/wire.py)
        self._aggregate_table = aggregate_table
        self._ledger_table = ledger_table
        self._group_by = group_by

    def apply(self, plan: KeyPlan) -> KeyOutcome:
        """Apply one key's ``plan`` exactly once, alone; never raises, failures are in the outcome."""
        key = self._key(plan)
        self._alone(key)
        key.close()
        return key.outcome

    def apply_all(self, plans: Sequence[KeyPlan], pool: Executor) -> list[KeyOutcome]:
        """Apply every key's plan exactly once, packed; never raises, failures are in the outcomes.

        Ends: every cancelled transaction takes at least one key out of the packing or removes
        records from one (a cancellation that blames no action is answered by writing each key alone).
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
            for packed, error in zip(packs, pool.map(self._send_packed, packs), strict=True):
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
            self._aggregate_table,
            self._ledger_table,
            self._group_by,
            plan.group_token,
            plan.group_value,
            parts,
            self._extremes_table,
        )
        return _Key(target, item_chunks(plan.deltas, self._per_chunk))

    def _send_packed(self, packed: Packed) -> ClientError | BotoCoreError | None:
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
        code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
        slices = _reason_slices(packed, error) if isinstance(error, ClientError) else None
        if slices is None and code in ("ValidationException", "TransactionCanceledException"):
            for unit in packed.units:  # refused whole, or reasons that blame no action: alone, each answers for itself
                leave(unit.owner)
            return
        if slices is None:  # an outage or an error past the SDK's retries: failed back as each key alone would be
            for unit in packed.units:
                keys[unit.owner].fail(describe_error(error))
            return
        for unit, reasons in zip(packed.units, slices, strict=True):
            if all(reason_code(reason) == "None" for reason in reasons):
                continue  # not written: packed again in the next round
            key = keys[unit.owner]
            answer = _answer(read_cancellation(reasons, unit.transaction.items))
            if answer.verdict is Verdict.RETRY:
                key.outcome.transaction_conflicts += 1
                leave(unit.owner, paused=1)
            elif answer.verdict is Verdict.REFUSED:  # alone, the culprit is isolated
                leave(unit.owner)
            elif answer.verdict is Verdict.FAILED:
                key.fail(answer.detail)
            else:
                key.pending = self.settle(key.target, key.pending, answer, key.outcome)

    def _alone(self, key: _Key, paused: int = 0) -> None:
        """The key's remaining records, one transaction per chunk; ``paused``: the conflicts already met."""
        if paused:
            self.pause(paused)
        while key.next_pending():
            pending, key.pending = key.pending, []
            self.write(key.target, pending, key.outcome, paused)
            paused = 0

    def _request(self, target: AggregateTarget, pending: list[Delta]) -> Transaction:
        return transaction(target, pending)

    def _send(self, target: AggregateTarget, request: Transaction) -> Answer:
        try:
            self._client.transact_write_items(**request.request)
        except ClientError as error:
            cancellation = _cancellation(error, request.items)
            if cancellation is not None:
                return _answer(cancellation)
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                return Answer(Verdict.REFUSED, describe_error(error))
            return Answer(Verdict.FAILED, describe_error(error))
        except BotoCoreError as error:
            return Answer(Verdict.FAILED, describe_error(error))
        return APPLIED

    def _stored(self, target: AggregateTarget, answer: Answer) -> dict[str, str]:
        """The positions that came back with the cancellation, and those of the entries that did not."""
        stored = dict(answer.stored)
        for item in answer.unread:
            key = {LEDGER_KEY: {"S": ledger_id(target.group_token, item)}}
            entry = self._client.get_item(TableName=self._ledger_table, Key=key, ConsistentRead=True).get("Item", {})
            position = entry.get(LEDGER_POSITION, {}).get("S")
            if isinstance(position, str):
                stored[item] = position
        return stored


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
        fail(self.outcome, self.target, self.pending, detail)
        self.pending = []

    def close(self) -> None:
        """After a failure, the later chunks are left pending: Lambda redelivers the key's records in order."""
        if self.outcome.error:
            self.outcome.pending.extend(delta.position for chunk in self.chunks for delta in chunk)
            self.chunks = []


def _reason_slices(packed: Packed, error: ClientError) -> list[list[object]] | None:
    """Each key's cancellation reasons, or None when the error is no cancellation naming an action at fault."""
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


def _answer(cancellation: Cancellation) -> Answer:
    """What one key's cancellation reasons say to do: refused, failed, settle what is applied, or retry."""
    if cancellation.error_code == "ValidationError":
        return Answer(Verdict.REFUSED, cancellation.error or "")
    if cancellation.error:
        return Answer(Verdict.FAILED, cancellation.error)
    if cancellation.stored or cancellation.unread:
        return Answer(Verdict.CONDITION_FAILED, stored=cancellation.stored, unread=cancellation.unread)
    return Answer(Verdict.RETRY)
