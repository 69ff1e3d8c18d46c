"""A DynamoDB client wrapper that bills every write the way DynamoDB would.

It reads each item a write targets just before and just after the write (BatchGetItem for a
transaction, ReturnValues for an UpdateItem) and prices it with ``billing.write_units``. The
reads are the benchmark's, not the handler's: they are not counted. A write that fails raises
through unbilled, though DynamoDB bills a cancelled transaction or a failed condition too: the
workloads deliver each record once to one writer, so their writes have no condition to fail on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Unpack

from .billing import write_units

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        KeysAndAttributesUnionTypeDef,
        TransactWriteItemsInputTypeDef,
        TransactWriteItemsOutputTypeDef,
        UpdateItemInputTypeDef,
        UpdateItemOutputTypeDef,
    )

Key = Mapping[str, Any]
"""An item's key attributes, in wire format."""


@dataclass
class Bill:
    write_units: int = 0
    requests: int = 0
    by_table: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, units: int) -> None:
        self.write_units += units
        self.by_table[table] = self.by_table.get(table, 0) + units


class BilledClient:
    """Passes every call through; ``update_item`` and ``transact_write_items`` are billed."""

    def __init__(self, client: DynamoDBClient):
        self._client = client
        self.bill = Bill()
        self._key_names: dict[str, list[str]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **request: Unpack[UpdateItemInputTypeDef]) -> UpdateItemOutputTypeDef:
        table, key = request["TableName"], request["Key"]
        before = self._client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        returning: UpdateItemInputTypeDef = {**request, "ReturnValues": "ALL_NEW"}
        response = self._client.update_item(**returning)
        self.bill.requests += 1
        self.bill.add(table, write_units(before, response.get("Attributes"), transactional=False))
        return response

    def transact_write_items(
        self, **request: Unpack[TransactWriteItemsInputTypeDef]
    ) -> TransactWriteItemsOutputTypeDef:
        targets = [self._target(action) for action in request["TransactItems"]]
        before = self._read(targets)
        response = self._client.transact_write_items(**request)
        after = self._read(targets)
        self.bill.requests += 1
        for table, key in targets:  # a Put or Delete of an absent item is billed its 1 KB minimum, as DynamoDB does
            identity = (table, _key_text(key))
            self.bill.add(table, write_units(before.get(identity), after.get(identity), transactional=True))
        return response

    def _target(self, action: Any) -> tuple[str, Key]:
        """The table and key an action writes: an Update's or Delete's key, a Put's read from the table's key schema."""
        if "Put" not in action:
            named = action["Update"] if "Update" in action else action["Delete"]
            return named["TableName"], named["Key"]
        table, item = action["Put"]["TableName"], action["Put"]["Item"]
        if table not in self._key_names:
            schema = self._client.describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [element["AttributeName"] for element in schema]
        return table, {name: item[name] for name in self._key_names[table]}

    def _read(self, targets: list[tuple[str, Key]]) -> dict[tuple[str, str], dict[str, Any]]:
        wanted: dict[str, list[Key]] = {}
        for table, key in targets:
            wanted.setdefault(table, []).append(key)
        found: dict[tuple[str, str], dict[str, Any]] = {}
        request: Mapping[str, KeysAndAttributesUnionTypeDef] = {
            table: {"Keys": keys, "ConsistentRead": True} for table, keys in wanted.items()
        }
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                key_names = list(wanted[table][0])
                for item in items:
                    found[(table, _key_text({name: item[name] for name in key_names}))] = item
            request = response.get("UnprocessedKeys") or {}
        return found


def _key_text(key: Key) -> str:
    return json.dumps(key, sort_keys=True)
