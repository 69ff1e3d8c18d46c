"""Applying one key's folded deltas to the aggregate table: the only module that writes it.

The happy path is one conditional UpdateItem. A failed condition means part of the batch was
applied before (a retry or a duplicate delivery): the item as it stood comes back with the error,
the applied records are dropped, and the rest is written again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .fold import KeyPlan, NumberOverflow, fold, prune_request, unapplied, update_request
from .watermark import expired, read_entries

LOGGER = logging.getLogger(__name__)
MAX_CONDITIONAL_ATTEMPTS = 4
"""Each conditional failure consumes applied records, so two attempts settle any duplicate; more
than four means something else writes the watermarks, which is reported as a failure."""


@dataclass
class KeyOutcome:
    """What happened to one key's plan; ``error`` set means none of ``pending`` were applied."""

    applied: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    writes: int = 0
    conditional_retries: int = 0
    pruned: int = 0
    error: str | None = None


class AggregateStore:
    def __init__(self, client: Any, table_name: str, group_by: str, clock: Callable[[], float] = time.time):
        self._client = client
        self._table = table_name
        self._group_by = group_by
        self._clock = clock

    def apply(self, plan: KeyPlan) -> KeyOutcome:
        """Apply ``plan`` exactly once; never raises, failures are in the outcome."""
        outcome = KeyOutcome()
        pending = plan.deltas
        for _ in range(MAX_CONDITIONAL_ATTEMPTS):
            folded = fold(pending)
            if folded.is_empty:
                return outcome
            try:
                outcome.writes += 1
                response = self._client.update_item(
                    **update_request(self._table, self._group_by, plan.group_value, folded)
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    return self._failed(outcome, pending, plan, _describe(error))
                outcome.conditional_retries += 1
                try:
                    watermarks = self._watermarks_after_conflict(error, plan)
                except (ClientError, BotoCoreError) as read_error:
                    return self._failed(outcome, pending, plan, _describe(read_error))
                pending, applied = unapplied(pending, watermarks)
                outcome.duplicates.extend(delta.position for delta in applied)
                continue
            except (BotoCoreError, NumberOverflow) as error:
                return self._failed(outcome, pending, plan, _describe(error))
            outcome.applied.extend(delta.position for delta in pending)
            attributes: dict[str, Any] = response.get("Attributes", {})
            self._prune(plan, attributes, frozenset(folded.first_sequence), outcome)
            return outcome
        return self._failed(outcome, pending, plan, "watermark condition kept failing: another writer?")

    def _watermarks_after_conflict(self, error: ClientError, plan: KeyPlan) -> dict[str, int]:
        item: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]  # DynamoDB adds Item
        if item is None:
            key = {self._group_by: plan.group_value}
            item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item", {})
        return {token: entry.sequence for token, entry in read_entries(item).items()}

    def _prune(self, plan: KeyPlan, item: dict[str, Any], just_written: frozenset[str], outcome: KeyOutcome) -> None:
        """Drop watermarks past the stream's retention so items stay small; best effort."""
        stale = expired(read_entries(item), self._clock(), keep=just_written)
        if not stale:
            return
        try:
            outcome.writes += 1
            self._client.update_item(**prune_request(self._table, self._group_by, plan.group_value, stale))
            outcome.pruned += len(stale)
        except (ClientError, BotoCoreError) as error:
            LOGGER.info("watermark prune skipped for %s: %s", plan.group_token, _describe(error))

    @staticmethod
    def _failed(outcome: KeyOutcome, pending: list[Any], plan: KeyPlan, reason: str) -> KeyOutcome:
        outcome.pending.extend(delta.position for delta in pending)
        outcome.error = f"aggregate {plan.group_token}: {reason}"
        return outcome


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'ClientError')}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"
