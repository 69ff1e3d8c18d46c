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

from .attributes import INTERNAL_PREFIX
from .errors import describe_error
from .fold import conditional_position, fold, inline_extremes, measure_updates, update_request
from .types import Delta, KeyOutcome, KeyPlan
from .write_loop import APPLIED, Answer, Verdict, WriteLoop, fail

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, UpdateTypeDef

INLINE_POSITION = INTERNAL_PREFIX


class InlineStore(WriteLoop[KeyPlan, "UpdateTypeDef"]):
    """Writes single-source aggregates: one conditional UpdateItem per key and batch."""

    def __init__(self, client: DynamoDBClient, table_name: str, group_by: str):
        super().__init__()
        self._client = client
        self._table = table_name
        self._group_by = group_by

    def apply_all(self, plans: Sequence[KeyPlan], pool: Executor) -> list[KeyOutcome]:
        """One conditional UpdateItem per key, concurrently (docs/design.md says why they are not packed)."""
        return list(pool.map(self.apply, plans))

    def apply(self, plan: KeyPlan) -> KeyOutcome:
        """Apply ``plan`` exactly once; never raises, failures are in the outcome."""
        outcome = KeyOutcome()
        if len({delta.item for delta in plan.deltas}) > 1:
            fail(outcome, plan, plan.deltas, "records of several source items in single-source mode")
            return outcome
        self.write(plan, plan.deltas, outcome)
        return outcome

    def _request(self, target: KeyPlan, pending: list[Delta]) -> UpdateTypeDef:
        return self.request(target, pending)

    def request(self, plan: KeyPlan, deltas: list[Delta]) -> UpdateTypeDef:
        """One conditional UpdateItem: the measures, and the position moved past ``deltas``."""
        folded = fold(deltas)
        ((item, first),) = folded.first.items()
        expression = measure_updates(folded)
        inline_extremes(expression, folded.extremes.get(item, {}))
        condition = conditional_position(expression, INLINE_POSITION, first, folded.last[item][0])
        request = update_request(self._table, {self._group_by: plan.group_value}, expression, condition)
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return request

    def _send(self, target: KeyPlan, request: UpdateTypeDef) -> Answer:
        try:
            self._client.update_item(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ValidationException":  # refused as invalid: no retry can succeed
                return Answer(Verdict.REFUSED, describe_error(error))
            if code != "ConditionalCheckFailedException":
                return Answer(Verdict.FAILED, describe_error(error))
            source = target.deltas[0].item
            # DynamoDB adds the item (ReturnValuesOnConditionCheckFailure); botocore's error type does not know it
            item: Mapping[str, AttributeValueTypeDef] | None = error.response.get("Item")  # type: ignore[assignment]
            if item is None:
                return Answer(Verdict.CONDITION_FAILED, unread=[source])
            return Answer(Verdict.CONDITION_FAILED, stored=_position(source, item))
        except BotoCoreError as error:
            return Answer(Verdict.FAILED, describe_error(error))
        return APPLIED

    def _stored(self, target: KeyPlan, answer: Answer) -> dict[str, str]:
        """The key's one source item's stored position: from the error, or read when it did not come back."""
        if not answer.unread:
            return answer.stored
        key = {self._group_by: target.group_value}
        item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item", {})
        return _position(target.deltas[0].item, item)


def _position(source: str, item: Mapping[str, AttributeValueTypeDef]) -> dict[str, str]:
    """source item -> the position the aggregate item holds, if it holds one."""
    stored = item.get(INLINE_POSITION, {}).get("S")
    return {source: stored} if isinstance(stored, str) else {}
