"""The extremes table's shape: where a ledger aggregation's min and max live. Pure, no AWS.

A min or max cannot be kept by adding: when the largest item is lowered or removed, the next one
must be found without scanning the source table. So each (aggregate key, measure, source item)
that contributes has one entry, and a local secondary index orders a key's entries by value: the
extreme is one Query with ``Limit=1`` (ascending for min, descending for max). Entries are written
in the same TransactWriteItems as the key's ledger entries, so the ledger's position condition
makes them exactly-once; they have no TTL, since an entry lives exactly as long as its item contributes.

The component (components/), the local emulator (ops/local) and the readers take the names from here.
"""

from __future__ import annotations

import json

from .spec import OrderedType

EXTREMES_KEY = "k"
"""Partition key (S): ``json.dumps([group_token, measure_name])`` (``extremes_key``)."""
EXTREMES_ITEM = "i"
"""Sort key (S): the source item's token (``handler.position.item_token``, as the ledger uses)."""
VALUE_ATTRIBUTE: dict[OrderedType, str] = {OrderedType.NUMBER: "n", OrderedType.STRING: "s"}
"""The entry's value, by the measure's type; each is the sort key of one index."""
INDEX_NAME: dict[OrderedType, str] = {OrderedType.NUMBER: "by_n", OrderedType.STRING: "by_s"}
"""The local secondary index (projection KEYS_ONLY) that orders a key's entries by that value."""


def extremes_key(group_token: str, measure_name: str) -> str:
    """One partition per (aggregate key, measure): its entries are exactly the items that contribute."""
    return json.dumps([group_token, measure_name], separators=(",", ":"))
