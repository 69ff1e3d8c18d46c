"""The hot-key endpoint's rules, pure: which items a write names, who may hold them, and the answer
DynamoDB gives the loser. No sockets, no clocks: ``tests/unit/test_hot_key.py`` drives them directly.

What is modelled, from the DynamoDB developer guide ("Amazon DynamoDB Transactions: How it works",
*Transaction conflict handling*):

- "An item within a TransactWriteItems request is part of another ongoing TransactWriteItems
  request": the newcomer is cancelled, a ``TransactionCanceledException`` whose
  ``CancellationReasons`` hold one entry per action in request order, ``TransactionConflict`` on the
  actions whose items are held and ``None`` on the others (the API reference's CancellationReason).
  Nothing of it is applied; the ongoing transaction goes on.
- "A PutItem, UpdateItem, or DeleteItem request for an item conflicts with an ongoing
  TransactWriteItems request that includes the same item": it fails with ``TransactionConflictException``.
- "If an ongoing TransactWriteItems ... conflicts with a concurrent GetItem request, both operations
  can succeed": reads take no lock.

What is assumed, since the guide names no conflict for it: a single-item write meeting another
single-item write, or a transaction meeting only single-item writes, waits for them (DynamoDB
serializes the writes to one item; none of them is "an ongoing transaction").

Not modelled: TransactGetItems (the handler never reads in a transaction), BatchWriteItem (not
serializable as a unit; forwarded without locks), the ClientRequestToken's idempotency and its
``TransactionInProgressException``, two actions on one item (DynamoDB refuses the request; the
handler never builds one), throttling (``capacity_model.hot_key_ceiling`` counts the partition's
1,000 write units a second instead), and DynamoDB's own choice of which of two racing transactions
wins: here the one that reached the item first holds it for the service time, and every other that
arrives meanwhile loses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ops.local.forwarding import ERROR_TYPE, ONGOING

PREFIX = "DynamoDB_20120810."
TRANSACT_WRITE_ITEMS = f"{PREFIX}TransactWriteItems"
SINGLE_WRITES = frozenset(f"{PREFIX}{name}" for name in ("PutItem", "UpdateItem", "DeleteItem"))
"""Single-item writes: they lock their item, and lose to an ongoing transaction."""
TRANSACTION_ACTIONS = ("Put", "Update", "Delete", "ConditionCheck")

ItemId = tuple[str, str]
"""(table, the item's key as canonical JSON)."""
KeyNames = Callable[[str], Sequence[str]]
"""table -> its key attributes' names: a Put names its whole item, not its key."""


class Holder(Enum):
    TRANSACTION = "transaction"
    SINGLE = "single-item write"


class Verdict(Enum):
    GRANTED = "granted"
    CONFLICT = "conflict"
    """Answer the conflict now: ``Decision.conflicting`` says which of the request's items are held."""
    WAIT = "wait"
    """Held by single-item writes only: try again when one is released."""


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    conflicting: tuple[int, ...] = ()
    """Indexes, in the request's order, of the items an ongoing transaction holds."""


@dataclass
class LockTable:
    """Who holds which item. A request takes all of its items or none (no partial hold to undo)."""

    held: dict[ItemId, Holder] = field(default_factory=dict)

    def try_acquire(self, items: Sequence[ItemId], holder: Holder) -> Decision:
        """Take every one of ``items`` for ``holder``, or none of them, without waiting."""
        by_transaction = tuple(i for i, item in enumerate(items) if self.held.get(item) is Holder.TRANSACTION)
        if by_transaction:
            return Decision(Verdict.CONFLICT, by_transaction)
        if any(item in self.held for item in items):
            return Decision(Verdict.WAIT)
        for item in items:
            self.held[item] = holder
        return Decision(Verdict.GRANTED)

    def release(self, items: Sequence[ItemId]) -> None:
        """Give back what ``try_acquire`` granted for ``items``."""
        for item in set(items):
            del self.held[item]


def item_id(table: str, key: Mapping[str, Any]) -> ItemId:
    return table, json.dumps(key, sort_keys=True, separators=(",", ":"))


def operation_item(operation: Mapping[str, Any], key_names: KeyNames) -> ItemId:
    """The item one write names: its ``Key``, or for a Put the key attributes of its ``Item``."""
    table = operation["TableName"]
    key = operation.get("Key")
    if key is None:
        key = {name: operation["Item"][name] for name in key_names(table)}
    return item_id(table, key)


def transaction_items(body: Mapping[str, Any], key_names: KeyNames) -> list[ItemId]:
    """The item of each action of a TransactWriteItems request, in the request's order."""
    items = []
    for action in body.get("TransactItems", []):
        (operation,) = (action[name] for name in TRANSACTION_ACTIONS if name in action)
        items.append(operation_item(operation, key_names))
    return items


def conflict_body() -> bytes:
    """DynamoDB's TransactionConflictException, for a single-item write that met a transaction."""
    return json.dumps({"__type": f"{ERROR_TYPE}TransactionConflictException", "message": ONGOING}).encode()
