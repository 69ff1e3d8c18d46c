"""Turning one read row into a source item in wire format, or the reason it cannot be one: pure.

Types come from the aggregation: the attributes summed and the group_by parts read as numbers
are numbers, the keys are strings, and any other field is kept as a string (CSV) or as JSON typed
it. Every number follows DynamoDB's rules (ops.numbers), keys and the item follow DynamoDB's size
limits, and the item must be one the handler counts: a row the handler would set aside as invalid
is refused here, with its reason, rather than loaded and then missing from the totals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._lambda_code import AggregationSpec, AttributeValue, DateForm, InvalidImage, image_contribution
from .errors import InvalidRow
from .numbers import NumberError, checked, parse_number_text, storable_text
from .rows import Row

MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
MAX_ITEM_BYTES = 400 * 1024

Item = dict[str, AttributeValue]
JSON_TYPES: dict[type, str] = {dict: "an object", list: "an array", type(None): "null"}


def key_names(spec: AggregationSpec) -> list[str]:
    return [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])


def to_item(spec: AggregationSpec, row: Row) -> Item:
    """The row as a DynamoDB item in wire format.

    Raises
    ------
    InvalidRow
        Naming the field that is missing or wrong.
    """
    numeric = {attribute for _, attribute in spec.sums} | number_parts(spec)
    grouped = [part.attribute for part in spec.group_parts] or [spec.group_by]
    required = dict.fromkeys(key_names(spec) + sorted(numeric) + grouped + [a for _, a in spec.latests])
    missing = [name for name in required if name not in row]
    if missing:
        raise InvalidRow(f"missing {', '.join(missing)}")
    item: Item = {}
    for name, value in row.items():
        if not name:
            raise InvalidRow("an attribute name is empty")
        item[name] = {"N": _measure(name, value)} if name in numeric else _plain(name, value)
    _check_key(item, spec.partition_key, "partition key", MAX_PARTITION_KEY_BYTES)
    if spec.sort_key:
        _check_key(item, spec.sort_key, "sort key", MAX_SORT_KEY_BYTES)
    size = sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())
    if size > MAX_ITEM_BYTES:
        raise InvalidRow(f"the item would be about {size} bytes; DynamoDB allows at most {MAX_ITEM_BYTES}")
    try:
        image_contribution(spec, item)
    except InvalidImage as error:
        raise InvalidRow(f"the aggregator would count it invalid: {error}") from None
    return item


def number_parts(spec: AggregationSpec) -> set[str]:
    """group_by parts the handler reads as numbers (N parts, epoch dates): a CSV's text becomes N."""
    epochs = (DateForm.EPOCH_SECONDS, DateForm.EPOCH_MILLIS)
    return {
        part.attribute for part in spec.group_parts if (part.bucket is None and part.type == "N") or part.date in epochs
    }


def _measure(name: str, value: Any) -> str:
    if isinstance(value, Decimal):  # a JSON number: its syntax is already a subset of DynamoDB's
        return storable_text(checked(value, name), name)
    if isinstance(value, str):
        return storable_text(parse_number_text(value, name), name)
    raise NumberError(f"{name} is not a number: {value!r}")


def _plain(name: str, value: Any) -> AttributeValue:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Decimal):
        return {"N": storable_text(checked(value, name), name)}
    if isinstance(value, str):
        return {"S": value}
    raise InvalidRow(f"{name} must be a string, number or boolean, got {JSON_TYPES.get(type(value), 'another type')}")


def _check_key(item: Item, name: str, role: str, limit: int) -> None:
    text = item[name].get("S")
    if not isinstance(text, str) or not text:
        raise InvalidRow(f"{name} must be a non-empty string")
    size = len(text.encode())
    if size > limit:
        raise InvalidRow(f"{name} is {size} bytes; DynamoDB allows at most {limit} in a {role}")


def _value_bytes(value: AttributeValue) -> int:
    """An upper bound of DynamoDB's size for the value: a number's text is longer than its storage."""
    ((kind, raw),) = value.items()
    return 1 if kind == "BOOL" else len(str(raw).encode())


def key_of(spec: AggregationSpec, item: Item) -> tuple[str, ...]:
    return tuple(item[name]["S"] for name in key_names(spec))


def describe_key(spec: AggregationSpec, key: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {value[:40]!r}" for name, value in zip(key_names(spec), key, strict=True))
