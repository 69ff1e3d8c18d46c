"""Ledger mode: each aggregate key's folded records land as transactions with their ledger entries.

A cancelled transaction says, action by action, why (see ``transaction.read_cancellation``):
an entry whose condition failed holds records already applied, which are dropped before the rest
is written again; a conflict with another writer's transaction, or throttling, is retried after a
jittered pause, inside the invocation, and counted; anything else fails the key's records, which
Lambda then redelivers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from .attributes import AttributeValue
from .errors import describe_error
from .fold import Delta, KeyPlan, split_applied
from .isolation import isolate
from .outcome import REFUSED_REASON, UNSTORABLE_REASON, KeyOutcome
from .position import ledger_id
from .transaction import (
    LEDGER_KEY,
    LEDGER_POSITION,
    AggregateTarget,
    Cancellation,
    item_chunks,
    read_cancellation,
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
        """Apply ``plan`` exactly once; never raises, failures are in the outcome."""
        parts = self._key_attributes(plan.group_value) if self._key_attributes else {}
        target = AggregateTarget(
            self._aggregate_table, self._ledger_table, self._group_by, plan.group_token, plan.group_value, parts
        )
        outcome = KeyOutcome()
        for chunk in item_chunks(plan.deltas):
            if outcome.error:  # keep the key's records in stream order: Lambda redelivers from the failure
                outcome.pending.extend(delta.position for delta in chunk)
                continue
            self._apply_chunk(target, chunk, outcome)
        return outcome

    def _apply_chunk(self, target: AggregateTarget, pending: list[Delta], outcome: KeyOutcome) -> None:
        """Ends: each settled cancellation removes records (or fails them), and pauses are capped."""

        def write(records: list[Delta]) -> None:
            self._apply_chunk(target, records, outcome)

        paused = 0
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
