"""Several aggregate keys' transactions packed into one TransactWriteItems: pure, no AWS.

A batch over 50 keys was 50 transactions of about 3 actions each; botocore's cost per call
(building, signing, sending, parsing) was nearly all of the handler's CPU. Packed, the same batch
is two calls. What makes packing safe rests on DynamoDB's documented TransactWriteItems rules
(docs/design.md, "Packing keys into transactions"):

- at most 100 actions, and at most 4 MB of items, per transaction;
- no two actions on one item: a key's aggregate and its ledger entries are items of their own, so
  two keys never share one, and a unit naming an item already in a transaction starts another;
- all of it lands or none: a key's actions (its ``Transaction``, one chunk of its items) are never
  split across two transactions, so its ADD and its ledger conditions still land together;
- ``CancellationReasons`` come one per action, in the order of the request, so each unit's slice
  of them says what happened to that key (``Packed.reasons``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .extremes import EXTREMES_ITEM, EXTREMES_KEY
from .transaction import MAX_TRANSACTION_ACTIONS, Transaction
from .wire import EncodedActions, encode_actions

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemsInputTypeDef, TransactWriteItemTypeDef

MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
"""DynamoDB: "The aggregate size of the items in the transaction cannot exceed 4 MB"."""
ITEM_ALLOWANCE_BYTES = 1024
"""Added to each action's request size for what its stored item may hold beyond the request (the
aggregate's running totals, up to 38 digits each, are never longer than this for 50 measures)."""


ItemName = tuple[str, tuple[tuple[str, str, Any], ...]]
"""An item as its table and its key's (attribute, type, value) triples, sorted: equal for one item."""


@dataclass(frozen=True)
class Unit:
    """One key's transaction, to be packed whole: ``owner`` says which key (an index of the caller's)."""

    owner: int
    transaction: Transaction

    @property
    def actions(self) -> list[TransactWriteItemTypeDef]:
        return list(self.transaction.request["TransactItems"])


@dataclass
class Packed:
    """One TransactWriteItems holding several units' actions, in unit order."""

    units: list[Unit] = field(default_factory=list)
    actions: list[TransactWriteItemTypeDef] = field(default_factory=list)
    targets: set[ItemName] = field(default_factory=set)
    size: int = 0
    texts: list[str] = field(default_factory=list)
    """Each unit's actions as the JSON the body carries (``wire.encode_actions``), encoded once."""

    @property
    def request(self) -> TransactWriteItemsInputTypeDef:
        """The call's arguments; a client ``wire.register``-ed sends the encoded text as its body."""
        return {"TransactItems": EncodedActions(self.actions, self.texts)}

    def reasons(self, reasons: Sequence[Any]) -> list[list[Any]] | None:
        """Each unit's slice of ``CancellationReasons``; None when they are not one per action."""
        if len(reasons) != len(self.actions):
            return None
        slices, start = [], 0
        for unit in self.units:
            end = start + len(unit.transaction.items)
            slices.append(list(reasons[start:end]))
            start = end
        return slices


def pack(
    units: Sequence[Unit], max_actions: int = MAX_TRANSACTION_ACTIONS, max_bytes: int = MAX_TRANSACTION_BYTES
) -> list[Packed]:
    """Units packed in order into as few transactions as the limits allow, each unit whole.

    A unit that does not fit the open transaction (actions, bytes, or an item already named)
    starts the next; a unit alone is always within the limits (``transaction.item_chunks``).
    """
    packed: list[Packed] = []
    for unit in units:
        actions = unit.actions
        targets = [target_of(action) for action in actions]
        text = encode_actions(actions)
        size = actions_size(text, len(actions))
        last = packed[-1] if packed else None
        if (
            last is None
            or len(last.actions) + len(actions) > max_actions
            or last.size + size > max_bytes
            or not last.targets.isdisjoint(targets)
        ):
            last = Packed()
            packed.append(last)
        last.units.append(unit)
        last.actions.extend(actions)
        last.targets.update(targets)
        last.size += size
        last.texts.append(text)
    return packed


def target_of(action: TransactWriteItemTypeDef) -> ItemName:
    """The item an action names: its table and key, comparable (a key's values are str or bytes).

    An Update or Delete names its key; the only Put built here is an extremes-table entry, whose key
    is its (k, i) (handler/extremes.py)."""
    key: Mapping[str, Any]
    if "Put" in action:
        put = action["Put"]
        table, key = put["TableName"], {name: put["Item"][name] for name in (EXTREMES_KEY, EXTREMES_ITEM)}
    else:
        named = action["Update"] if "Update" in action else action["Delete"]
        table, key = named["TableName"], named["Key"]
    return table, tuple(sorted((name, *_typed(value)) for name, value in key.items()))


def actions_size(text: str, count: int) -> int:
    """An upper bound of the item size ``count`` actions count for: their JSON text (``wire.encode_actions``,
    never shorter than the UTF-8 names and values DynamoDB counts) plus the allowance each. The same
    text is the request's body, so one encoding serves both."""
    return len(text) + ITEM_ALLOWANCE_BYTES * count


def _typed(value: Any) -> tuple[str, Any]:
    ((type_, scalar),) = value.items()
    return type_, scalar
