"""Single-source mode: the aggregate item carries its one source item's position inline.

When the source table has no sort key and ``group_by`` is its partition key, each aggregate item
has exactly one source item, so one attribute (``_wm``) holds the whole idempotency state and a
batch costs one conditional UpdateItem per key. A failed condition brings the item back with the
error; the records it already covers are dropped and the rest is written again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from .errors import describe_error
from .fold import Delta, KeyPlan, conditional_position, fold, measure_updates, split_applied, update_request
from .isolation import isolate
from .outcome import REFUSED_REASON, UNSTORABLE_REASON, KeyOutcome
from .spec import INTERNAL_PREFIX

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, UpdateTypeDef

INLINE_POSITION = INTERNAL_PREFIX
MAX_CONDITIONAL_ATTEMPTS = 3
"""A failed condition consumes the applied records, so the second attempt settles any duplicate."""


class InlineStore:
    """Writes single-source aggregates: one conditional UpdateItem per key and batch."""

    def __init__(self, client: DynamoDBClient, table_name: str, group_by: str):
        self._client = client
        self._table = table_name
        self._group_by = group_by

    def apply_all(self, plans: Sequence[KeyPlan], pool: Executor) -> list[KeyOutcome]:
        """One conditional UpdateItem per key, concurrently (see docs/design.md on why not packed)."""
        return list(pool.map(self.apply, plans))

    def apply(self, plan: KeyPlan) -> KeyOutcome:
        """Apply ``plan`` exactly once; never raises, failures are in the outcome."""
        outcome = KeyOutcome()
        if len({delta.item for delta in plan.deltas}) > 1:
            return _failed(outcome, plan, plan.deltas, "records of several source items in single-source mode")
        self._apply(plan, plan.deltas, outcome)
        return outcome

    def _apply(self, plan: KeyPlan, pending: list[Delta], outcome: KeyOutcome) -> None:
        def write(records: list[Delta]) -> None:
            self._apply(plan, records, outcome)

        for _ in range(MAX_CONDITIONAL_ATTEMPTS):
            if not pending:
                return
            try:
                request = self.request(plan, pending)
            except ArithmeticError:  # the records' sum cannot be exact in 38 digits
                isolate(outcome, pending, UNSTORABLE_REASON, write)
                return
            try:
                outcome.writes += 1
                self._client.update_item(**request)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code == "ValidationException":  # refused as invalid: no retry can succeed
                    isolate(outcome, pending, f"{REFUSED_REASON}: {describe_error(error)}", write)
                    return
                if code != "ConditionalCheckFailedException":
                    _failed(outcome, plan, pending, describe_error(error))
                    return
                outcome.conditional_retries += 1
                try:
                    stored = self._stored(error, plan)
                except (ClientError, BotoCoreError) as read_error:
                    _failed(outcome, plan, pending, describe_error(read_error))
                    return
                split = split_applied(pending, stored)
                outcome.skip_applied(split.applied, stored)
                outcome.stale.extend(d.position for d in split.stale)
                pending = split.pending
            except BotoCoreError as error:
                _failed(outcome, plan, pending, describe_error(error))
                return
            else:
                outcome.applied.extend(d.position for d in pending)
                return
        if pending:
            _failed(outcome, plan, pending, "position condition kept failing")

    def request(self, plan: KeyPlan, deltas: list[Delta]) -> UpdateTypeDef:
        """One conditional UpdateItem: the measures, and the position moved past ``deltas``."""
        folded = fold(deltas)
        ((item, first),) = folded.first.items()
        expression = measure_updates(folded)
        condition = conditional_position(expression, INLINE_POSITION, first, folded.last[item][0])
        request = update_request(self._table, {self._group_by: plan.group_value}, expression, condition)
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return request

    def _stored(self, error: ClientError, plan: KeyPlan) -> dict[str, str]:
        # DynamoDB adds the item (ReturnValuesOnConditionCheckFailure); botocore's error type does not know it
        item: Mapping[str, AttributeValueTypeDef] | None = error.response.get("Item")  # type: ignore[assignment]
        if item is None:
            key = {self._group_by: plan.group_value}
            item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item", {})
        stored = (item or {}).get(INLINE_POSITION, {}).get("S")
        return {plan.deltas[0].item: stored} if isinstance(stored, str) else {}


def _failed(outcome: KeyOutcome, plan: KeyPlan, pending: list[Delta], detail: str) -> KeyOutcome:
    return outcome.fail([delta.position for delta in pending], f"aggregate {plan.group_token}: {detail}")
