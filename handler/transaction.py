"""Ledger mode's writes: one TransactWriteItems per aggregate key and chunk of items: pure, no AWS.

When many source items feed one aggregate item, their positions cannot live on it (one per item
would grow it to DynamoDB's 400 KB item limit). They live in a ledger table, one small item per
(aggregate key, source item), and each write is a transaction: the aggregate's ADD, plus, per
source item folded in, a conditional update of its ledger entry. Either all of it lands or none.

DynamoDB's limits, asserted by tests on the requests built here because the emulator does not
enforce them: 100 actions per transaction (so at most 99 items besides the aggregate), 4 MB per
transaction, 4 KB per expression, and no two actions on one item (each item's entry is its own
ledger item, and the aggregate appears once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .attributes import AttributeValue
from .errors import ConfigError
from .extremes import EXTREMES_ITEM, EXTREMES_KEY, VALUE_ATTRIBUTE, extremes_key
from .fold import POSITION_BELOW_FIRST, POSITION_BELOW_LAST, fold, measure_updates, update_request
from .position import IDEMPOTENCY_WINDOW_SECONDS, ledger_ids
from .spec import OrderedType
from .types import Delta

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemsInputTypeDef, TransactWriteItemTypeDef

MAX_TRANSACTION_ACTIONS = 100
MAX_ITEMS_PER_TRANSACTION = MAX_TRANSACTION_ACTIONS - 1
"""One action is the aggregate's update."""

LEDGER_KEY = "id"
LEDGER_POSITION = "position"
LEDGER_EXPIRY = "expires_at"
"""Epoch seconds, the ledger table's TTL attribute."""

RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
"""Cancellation reasons that another attempt, after a pause, can get past."""


@dataclass(frozen=True)
class AggregateTarget:
    """Which aggregate item a transaction updates, and where the tables are."""

    aggregate_table: str
    ledger_table: str
    group_by: str
    group_token: str
    group_value: AttributeValue
    key_attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    """A composite group's part attributes (``grouping.part_attributes``), set if absent: they are
    functions of the key, so the first write that creates the item gives them their only value."""
    extremes_table: str | None = None
    """Where min/max entries go (handler/extremes.py); None when the aggregation has no min/max."""


@dataclass(frozen=True)
class Transaction:
    request: TransactWriteItemsInputTypeDef
    items: list[str | None]
    """The source item of each action, in order; None for the aggregate's own update."""


@dataclass
class Cancellation:
    """What a TransactionCanceledException's reasons say to do next.

    Nothing stored, unread or in error: the actions were cancelled by a conflict or throttling
    (``RETRYABLE_REASONS``), and the same write is sent again after a pause.
    """

    stored: dict[str, str] = field(default_factory=dict)
    """item -> the position its entry holds, for entries whose condition failed."""
    unread: list[str] = field(default_factory=list)
    """Items whose condition failed without the entry coming back: read them."""
    error: str | None = None
    """A reason no retry inside this invocation can fix."""
    error_code: str | None = None


def items_per_transaction(extremes: int) -> int:
    """Items a transaction can hold whole: each takes its ledger entry and one action per min/max
    measure (at most; an unchanged value takes none), beside the aggregate's one update."""
    return MAX_ITEMS_PER_TRANSACTION // (1 + extremes)


def item_chunks(deltas: Sequence[Delta], per_chunk: int = MAX_ITEMS_PER_TRANSACTION) -> list[list[Delta]]:
    """Deltas grouped so that no chunk holds more than ``per_chunk`` items, each item whole.

    An item's records stay in one chunk, in order, so its entry moves once per transaction. Chunks
    come in the order of their last record, so the one written last holds the batch's last record
    and ``latest`` measures end on it.
    """
    if 0 < len(deltas) <= per_chunk:  # the usual key: fewer records than a chunk holds items
        return [list(deltas)]
    chunk_of: dict[str, int] = {}
    chunks: list[list[Delta]] = []
    items_in_last = per_chunk
    for delta in deltas:
        index = chunk_of.get(delta.item)
        if index is None:
            if items_in_last >= per_chunk:
                chunks.append([])
                items_in_last = 0
            index = chunk_of[delta.item] = len(chunks) - 1
            items_in_last += 1
        chunks[index].append(delta)
    return sorted(chunks, key=lambda chunk: chunk[-1].position)


def transaction(target: AggregateTarget, deltas: Iterable[Delta]) -> Transaction:
    """The TransactWriteItems request applying ``deltas`` exactly once."""
    folded = fold(deltas)
    actions: list[TransactWriteItemTypeDef] = []
    items: list[str | None] = []
    if folded.changes_aggregate:
        key = {target.group_by: target.group_value}
        expression = measure_updates(folded)
        for index, (name, value) in enumerate(target.key_attributes.items()):
            expression.set_if_absent(f"k{index}", name, value)
        actions.append({"Update": update_request(target.aggregate_table, key, expression)})
        items.append(None)
    entry_id = ledger_ids(target.group_token)
    for item, first in folded.first.items():
        last, created_at = folded.last[item]
        actions.append(entry_action(target.ledger_table, entry_id(item), first, last, created_at))
        items.append(item)
        extremes = folded.extremes.get(item)
        if extremes:
            for measure, extreme in extremes.items():
                actions.append(extreme_action(target, item, measure, extreme))
                items.append(item)
    return Transaction(request={"TransactItems": actions}, items=items)


def extreme_action(
    target: AggregateTarget, item: str, measure: str, value: AttributeValue | None
) -> TransactWriteItemTypeDef:
    """Put the item's value in the (key, measure) partition, or Delete it once the item no longer
    contributes. Unconditional: the item's ledger entry, in the same transaction, makes it exactly-once."""
    if target.extremes_table is None:
        raise ConfigError(f"measure {measure!r} is a min/max over many items per key: it needs an extremes table")
    key: dict[str, AttributeValue] = {
        EXTREMES_KEY: {"S": extremes_key(target.group_token, measure)},
        EXTREMES_ITEM: {"S": item},
    }
    if value is None:
        return {"Delete": {"TableName": target.extremes_table, "Key": key}}
    ((kind, _),) = value.items()
    return {"Put": {"TableName": target.extremes_table, "Item": {**key, VALUE_ATTRIBUTE[OrderedType(kind)]: value}}}


ENTRY_UPDATE = "SET #p = :p, #x = :x"
"""A ledger entry's update: its position (``fold.conditional_position``'s ``#p``/``:p``) and its expiry."""


def entry_action(table: str, entry_id: str, first: str, last: str, created_at: int) -> TransactWriteItemTypeDef:
    """Move an item's entry (``entry_id``: its ``position.ledger_id``) from below ``first`` to ``last``;
    on failure, return what it holds.

    The request ``conditional_position`` and ``update_request`` would build, written out: an
    ``Expression`` per entry was most of a fan-in batch's transaction-building CPU, and only the
    values differ between entries (tests/unit/test_transaction.py compares the two)."""
    values: dict[str, AttributeValue] = {":p": {"S": last}}
    if first == last:
        condition = POSITION_BELOW_LAST
    else:
        values[":first"] = {"S": first}
        condition = POSITION_BELOW_FIRST
    values[":x"] = {"N": str(created_at + IDEMPOTENCY_WINDOW_SECONDS)}
    return {
        "Update": {
            "TableName": table,
            "Key": {LEDGER_KEY: {"S": entry_id}},
            "UpdateExpression": ENTRY_UPDATE,
            "ExpressionAttributeNames": {"#p": LEDGER_POSITION, "#x": LEDGER_EXPIRY},
            "ExpressionAttributeValues": values,
            "ConditionExpression": condition,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def read_cancellation(reasons: Sequence[Any], items: Sequence[str | None]) -> Cancellation:
    """Classify each action's cancellation reason (``CancellationReasons`` is in action order)."""
    result = Cancellation()
    for reason, item in zip(reasons, items, strict=False):
        code = reason_code(reason)
        if code == "None":
            continue
        if code == "ConditionalCheckFailed" and item is not None:
            stored = (reason.get("Item") or {}).get(LEDGER_POSITION, {}).get("S")
            if isinstance(stored, str):
                result.stored[item] = stored
            else:
                result.unread.append(item)
        elif code in RETRYABLE_REASONS:
            continue
        else:
            result.error = f"transaction cancelled: {code}: {reason.get('Message', '')}".strip()
            result.error_code = code
    return result


def reason_code(reason: Any) -> str:
    """One action's cancellation code; "None" (DynamoDB's word) when the action itself was not at fault."""
    code = reason.get("Code") if isinstance(reason, dict) else None
    return code if isinstance(code, str) else "None"
