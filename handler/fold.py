"""Folding one aggregate key's deltas, and splitting them against stored positions: pure, no AWS.

A batch's records for one aggregate key are summed into one write. What makes that write
idempotent is a *position* per source item (see ``position``): the write applies an item's
records only if the item's stored position is below the first of them, and moves it to the last.
DynamoDB keeps an item's stream records in order, so "below the first" means "none applied yet".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import TYPE_CHECKING

from .attributes import MAX_NUMBER_DIGITS, AttributeValue, number_text
from .errors import HandlerError
from .position import label_of
from .types import Delta, ImageContribution, RecordEffect

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

EXACT = Context(prec=2 * MAX_NUMBER_DIGITS + 2, traps=[Inexact, InvalidOperation, Overflow])
"""Arithmetic that raises rather than rounds: the default context would round at 28 digits."""


class NumberOverflow(HandlerError, ArithmeticError):
    """A folded delta needs more than DynamoDB's 38 significant digits."""


@dataclass(frozen=True, slots=True)
class Fold:
    numbers: Mapping[str, Decimal]
    latest: Mapping[str, AttributeValue]
    extremes: Mapping[str, Mapping[str, AttributeValue | None]]
    """item -> min/max measure -> the value its last record folded in left (None: no longer contributes)."""
    first: Mapping[str, str]
    """item -> stream position of its first record folded in."""
    last: Mapping[str, tuple[str, int]]
    """item -> (stream position, created_at) of its last record folded in."""

    @property
    def changes_aggregate(self) -> bool:
        return bool(self.latest) or any(self.numbers.values())


@dataclass
class Split:
    """Deltas sorted against stored positions (see ``split_applied``)."""

    pending: list[Delta] = field(default_factory=list)
    applied: list[Delta] = field(default_factory=list)
    stale: list[Delta] = field(default_factory=list)
    """From an older stream than the one already applied for the item: whether they were applied
    cannot be known, so they are neither applied nor dropped but quarantined."""


def record_deltas(
    position: int, stream_position: str, created_at: int, effect: RecordEffect
) -> list[tuple[ImageContribution, Delta]]:
    """The per-key deltas of one record: one when it stays in its group, two when it moves."""
    if effect.item_token is None:
        return []
    removed, added, item = effect.removed, effect.added, effect.item_token
    if removed and added and removed.group_token == added.group_token:
        numbers = {name: EXACT.subtract(added.numbers[name], removed.numbers[name]) for name in added.numbers}
        extremes = written_extremes(removed.extremes, added.extremes, numbers, added.latest)
        return [(added, Delta(position, stream_position, item, created_at, numbers, dict(added.latest), extremes))]
    deltas = []
    if removed:
        negated = {name: EXACT.minus(value) for name, value in removed.numbers.items()}
        gone = dict.fromkeys(removed.extremes)
        deltas.append((removed, Delta(position, stream_position, item, created_at, negated, {}, gone)))
    if added:
        delta = Delta(
            position, stream_position, item, created_at, dict(added.numbers), dict(added.latest), dict(added.extremes)
        )
        deltas.append((added, delta))
    return deltas


def written_extremes(
    before: Mapping[str, AttributeValue],
    after: Mapping[str, AttributeValue],
    numbers: Mapping[str, Decimal],
    latest: Mapping[str, AttributeValue],
) -> dict[str, AttributeValue | None]:
    """The min/max entries a record of an item that stays in its group writes: every one of the
    item's values whenever the record is written at all, none when it changes nothing (``is_noop``).

    Writing the unchanged values too means that once any record of an item is applied for a key,
    its entries exist, whatever the item held before the stream: backfill seeds an item's entries
    only while no record of it has been applied (its ledger entry is absent), so an entry skipped
    here would never be written by either."""
    if before == after and not latest and not any(numbers.values()):
        return {}
    return dict(after)


def too_wide(delta: Delta) -> bool:
    """A record's own change needs more digits than DynamoDB keeps (1.1 to -99...9, 38 nines)."""
    return any(len(number.as_tuple().digits) > MAX_NUMBER_DIGITS for number in delta.numbers.values())


def is_noop(delta: Delta) -> bool:
    """A delta that changes nothing (e.g. a MODIFY of an attribute no measure reads) needs no write."""
    return not delta.latest and not delta.extremes and not any(delta.numbers.values())


def fold(deltas: Iterable[Delta]) -> Fold:
    """Sum the deltas exactly; the last record in stream order gives each ``latest`` value.

    ``EXACT.add`` only where a measure is already present: most keys get one record a batch, and
    entering a ``localcontext`` for every key cost more than all of their additions."""
    numbers: dict[str, Decimal] = {}
    latest: dict[str, AttributeValue] = {}
    extremes: dict[str, dict[str, AttributeValue | None]] = {}
    first: dict[str, str] = {}
    last: dict[str, tuple[str, int]] = {}
    add = EXACT.add
    for delta in deltas:
        for name, value in delta.numbers.items():
            numbers[name] = add(numbers[name], value) if name in numbers else value
        if delta.latest:
            latest.update(delta.latest)
        item = delta.item
        if delta.extremes:
            extremes.setdefault(item, {}).update(delta.extremes)
        if item not in first:
            first[item] = delta.stream_position
        last[item] = (delta.stream_position, delta.created_at)
    return Fold(numbers=numbers, latest=latest, extremes=extremes, first=first, last=last)


def split_applied(deltas: Iterable[Delta], stored: Mapping[str, str]) -> Split:
    """Sort deltas into still to apply, already applied, and stale, against the stored position
    of each item (items missing from ``stored`` have nothing applied)."""
    split = Split()
    for delta in deltas:
        mark = stored.get(delta.item)
        if mark is None or delta.stream_position > mark:
            split.pending.append(delta)
        elif label_of(delta.stream_position) < label_of(mark):
            split.stale.append(delta)
        else:
            split.applied.append(delta)
    return split


@dataclass
class Expression:
    """An UpdateExpression being built, with its placeholders."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)
    sets: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)

    def set(self, placeholder: str, name: str, value: AttributeValue) -> None:
        self.names[f"#{placeholder}"], self.values[f":{placeholder}"] = name, value
        self.sets.append(f"#{placeholder} = :{placeholder}")

    def set_if_absent(self, placeholder: str, name: str, value: AttributeValue) -> None:
        self.names[f"#{placeholder}"], self.values[f":{placeholder}"] = name, value
        self.sets.append(f"#{placeholder} = if_not_exists(#{placeholder}, :{placeholder})")

    def add(self, placeholder: str, name: str, value: AttributeValue) -> None:
        self.names[f"#{placeholder}"], self.values[f":{placeholder}"] = name, value
        self.adds.append(f"#{placeholder} :{placeholder}")

    def remove(self, placeholder: str, name: str) -> None:
        self.names[f"#{placeholder}"] = name
        self.removes.append(f"#{placeholder}")

    def text(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.adds:
            parts.append("ADD " + ", ".join(self.adds))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)


def measure_updates(folded: Fold) -> Expression:
    """ADD each summed measure, SET each ``latest`` one: the aggregate part of every write."""
    expression = Expression()
    for index, (name, number) in enumerate(folded.numbers.items()):
        expression.add(f"n{index}", name, {"N": storable(number, name)})
    for index, (name, value) in enumerate(folded.latest.items()):
        expression.set(f"l{index}", name, value)
    return expression


def inline_extremes(expression: Expression, values: Mapping[str, AttributeValue | None]) -> None:
    """A single-source aggregate's min/max: its one item's value, SET while it contributes, else REMOVEd."""
    for index, (name, value) in enumerate(values.items()):
        if value is None:
            expression.remove(f"x{index}", name)
        else:
            expression.set(f"x{index}", name, value)


def storable(number: Decimal, measure: str) -> str:
    """Fixed-point text of a delta DynamoDB can store exactly, else ``NumberOverflow``.

    The text holds every digit of the coefficient, so text of at most 38 characters needs no count
    of its digits (``as_tuple`` costs more than formatting)."""
    text = number_text(number)
    if len(text) > MAX_NUMBER_DIGITS and len(number.as_tuple().digits) > MAX_NUMBER_DIGITS:
        raise NumberOverflow(f"the folded delta for {measure!r} needs more than {MAX_NUMBER_DIGITS} digits")
    return text


POSITION_BELOW_LAST = "attribute_not_exists(#p) OR #p < :p"
"""The condition that nothing at or after ``:p`` is applied: an item with one record in the write."""
POSITION_BELOW_FIRST = "attribute_not_exists(#p) OR #p < :first"
"""The condition that nothing at or after ``:first`` is applied: an item with several records in the write."""


def conditional_position(expression: Expression, attribute: str, first: str, last: str) -> str:
    """SET ``attribute`` to ``last``; returns the condition that nothing at or after ``first`` is applied.

    An item with one record in the write (the usual case) has ``first == last``: its condition
    compares with ``:p`` itself, one value fewer for the SDK to build and DynamoDB to read."""
    expression.set("p", attribute, {"S": last})
    if first == last:
        return POSITION_BELOW_LAST
    expression.values[":first"] = {"S": first}
    return POSITION_BELOW_FIRST


def update_request(
    table: str, key: dict[str, AttributeValue], expression: Expression, condition: str | None = None
) -> UpdateTypeDef:
    """An UpdateItem of ``key`` by ``expression``, in wire format: a transaction's Update action as it is,
    and the keyword arguments of ``update_item``."""
    request: UpdateTypeDef = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": expression.text(),
        "ExpressionAttributeNames": expression.names,
    }
    if expression.values:
        request["ExpressionAttributeValues"] = expression.values
    if condition:
        request["ConditionExpression"] = condition
    return request
