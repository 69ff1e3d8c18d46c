"""Folding a batch into one conditional update per aggregate key: pure, no AWS.

All of a batch's records for one aggregate key become ONE UpdateItem that adds the summed deltas
and moves each source partition's watermark to the last record folded in. Its condition is that
every such watermark is still below the first record folded in, so a redelivered batch (retry,
bisect, duplicate) either applies whole or not at all, and never twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, localcontext
from typing import Any

from .attributes import MAX_NUMBER_DIGITS, AttributeValue, number_text
from .contribution import ImageContribution, RecordEffect
from .watermark import attribute_name, entry_text, padded

EXACT = Context(prec=2 * MAX_NUMBER_DIGITS + 2, traps=[Inexact, InvalidOperation, Overflow])
"""Arithmetic that raises rather than rounds: the default context would round at 28 digits."""


class NumberOverflow(ArithmeticError):
    """A folded delta needs more than DynamoDB's 38 significant digits."""


@dataclass(slots=True)
class Delta:
    """One record's effect on one aggregate key."""

    position: int
    sequence: int
    partition_token: str
    created_at: int
    numbers: Mapping[str, Decimal]
    latest: Mapping[str, AttributeValue]


@dataclass
class KeyPlan:
    """Everything a batch does to one aggregate key, in stream order."""

    group_token: str
    group_value: AttributeValue
    deltas: list[Delta] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Fold:
    numbers: Mapping[str, Decimal]
    latest: Mapping[str, AttributeValue]
    first_sequence: Mapping[str, int]
    last: Mapping[str, tuple[int, int]]
    """partition token -> (sequence, created_at) of the last record folded in."""

    @property
    def is_empty(self) -> bool:
        return not self.first_sequence


def record_deltas(
    position: int, sequence: int, created_at: int, effect: RecordEffect
) -> list[tuple[ImageContribution, Delta]]:
    """The per-key deltas of one record: one when it stays in its group, two when it moves."""
    if effect.partition_token is None:
        return []
    removed, added = effect.removed, effect.added
    if removed and added and removed.group_token == added.group_token:
        numbers = {name: EXACT.subtract(added.numbers[name], removed.numbers[name]) for name in added.numbers}
        return [(added, _delta(position, sequence, created_at, effect.partition_token, numbers, added.latest))]
    deltas = []
    if removed:
        negated = {name: EXACT.minus(value) for name, value in removed.numbers.items()}
        deltas.append((removed, _delta(position, sequence, created_at, effect.partition_token, negated, {})))
    if added:
        deltas.append(
            (added, _delta(position, sequence, created_at, effect.partition_token, added.numbers, added.latest))
        )
    return deltas


def _delta(
    position: int,
    sequence: int,
    created_at: int,
    partition: str,
    numbers: Mapping[str, Decimal],
    latest: Mapping[str, AttributeValue],
) -> Delta:
    return Delta(position, sequence, partition, created_at, dict(numbers), dict(latest))


def is_noop(delta: Delta) -> bool:
    """A delta that changes nothing (e.g. a MODIFY of an attribute no measure reads) needs no write."""
    return not delta.latest and not any(delta.numbers.values())


def fold(deltas: Iterable[Delta]) -> Fold:
    """Sum the deltas exactly; the last record in stream order gives each ``latest`` value."""
    numbers: dict[str, Decimal] = {}
    latest: dict[str, AttributeValue] = {}
    first: dict[str, int] = {}
    last: dict[str, tuple[int, int]] = {}
    with localcontext(EXACT):
        for delta in deltas:
            for name, value in delta.numbers.items():
                numbers[name] = numbers[name] + value if name in numbers else value
            if delta.latest:
                latest.update(delta.latest)
            token = delta.partition_token
            if token not in first:
                first[token] = delta.sequence
            last[token] = (delta.sequence, delta.created_at)
    return Fold(numbers=numbers, latest=latest, first_sequence=first, last=last)


def unapplied(deltas: Iterable[Delta], watermarks: Mapping[str, int]) -> tuple[list[Delta], list[Delta]]:
    """Split deltas into (still to apply, already applied) against the item's watermarks."""
    pending: list[Delta] = []
    applied: list[Delta] = []
    for delta in deltas:
        mark = watermarks.get(delta.partition_token)
        (applied if mark is not None and delta.sequence <= mark else pending).append(delta)
    return pending, applied


def update_request(table: str, group_by: str, group_value: AttributeValue, folded: Fold) -> dict[str, Any]:
    """The UpdateItem call for one folded key, in the low-level client's wire format."""
    names: dict[str, str] = {}
    values: dict[str, AttributeValue] = {}
    adds: list[str] = []
    sets: list[str] = []
    conditions: list[str] = []
    for index, (name, number) in enumerate(folded.numbers.items()):
        names[f"#n{index}"] = name
        values[f":n{index}"] = {"N": _storable(number, name)}
        adds.append(f"#n{index} :n{index}")
    for index, (name, value) in enumerate(folded.latest.items()):
        names[f"#l{index}"] = name
        values[f":l{index}"] = value
        sets.append(f"#l{index} = :l{index}")
    for index, (partition, first) in enumerate(folded.first_sequence.items()):
        sequence, created_at = folded.last[partition]
        names[f"#w{index}"] = attribute_name(partition)
        values[f":w{index}"] = {"S": entry_text(sequence, created_at)}
        values[f":f{index}"] = {"S": padded(first)}
        sets.append(f"#w{index} = :w{index}")
        conditions.append(f"(attribute_not_exists(#w{index}) OR #w{index} < :f{index})")
    expression = "SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
    return {
        "TableName": table,
        "Key": {group_by: group_value},
        "UpdateExpression": expression,
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def prune_request(table: str, group_by: str, group_value: AttributeValue, entries: list[Any]) -> dict[str, Any]:
    """Remove expired watermarks, but only if no writer has moved them since they were read."""
    names = {f"#p{i}": entry.attribute for i, entry in enumerate(entries)}
    values = {f":p{i}": {"S": entry.stored} for i, entry in enumerate(entries)}
    return {
        "TableName": table,
        "Key": {group_by: group_value},
        "UpdateExpression": "REMOVE " + ", ".join(names),
        "ConditionExpression": " AND ".join(f"{name} = :p{i}" for i, name in enumerate(names)),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _storable(number: Decimal, measure: str) -> str:
    if len(number.as_tuple().digits) > MAX_NUMBER_DIGITS:
        raise NumberOverflow(f"the folded delta for {measure!r} needs more than {MAX_NUMBER_DIGITS} digits")
    return number_text(number)
