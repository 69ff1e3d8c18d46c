"""The aggregation definition: what to group by, what to measure, which items count.

One parser serves the Lambda (at cold start), the Pulumi component (at preview) and the local
tools, so every rule about a valid aggregation is written once, here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cached_property
from typing import Any, NamedTuple

from .attributes import INTERNAL_PREFIX, attribute_name, storage_problem
from .errors import SpecError
from .group_parts import GroupPart, key_name, parse_group_parts, parse_timezone

__all__ = [  # names other modules import from here, some defined elsewhere
    "AggregationSpec",
    "Extreme",
    "GroupPart",
    "ItemFilter",
    "Measure",
    "MeasureOp",
    "OrderedType",
    "SpecError",
    "TtlDeletes",
    "parse_spec",
    "repeated_keys",
    "spec_to_dict",
]

_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,255}")
MAX_MEASURES = 50
"""Keeps every UpdateExpression far below DynamoDB's 4 KB expression limit (tested at this bound).
It bounds the attributes the measures store, too: an avg stores two."""
MAX_EXTREMES = 8
"""min/max measures per aggregation. In ledger mode each one adds an action per source item to a
transaction (its extremes-table entry), so a transaction of at most 100 actions still holds 11 items."""
AVG_SUM_SUFFIX = "_sum"
AVG_COUNT_SUFFIX = "_count"
"""An avg measure ``X`` is stored as the numbers ``X_sum`` and ``X_count``, never as a rounded average."""
_FIELDS = frozenset({"partition_key", "sort_key", "group_by", "measures", "filter", "ttl_deletes", "timezone"})


class MeasureOp(StrEnum):
    SUM = "sum"
    COUNT = "count"
    LATEST = "latest"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


EXTREME_OPS = frozenset({MeasureOp.MIN, MeasureOp.MAX})


class OrderedType(StrEnum):
    """The DynamoDB types a min/max compares, in DynamoDB's own order for a sort key of that type.

    N: numbers, as Decimal (38 digits). S: strings, by their UTF-8 bytes, so ISO-8601 dates written
    in one form (``2026-11-28``) compare as dates. Binary, booleans, sets, maps and lists are refused.
    """

    NUMBER = "N"
    STRING = "S"


_UNORDERED_TYPES = frozenset({"B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
"""DynamoDB's other types: named so a spec that asks for one hears why it is refused."""


class TtlDeletes(StrEnum):
    """What a REMOVE made by DynamoDB's TTL sweeper does to the aggregate."""

    SUBTRACT = "subtract"
    IGNORE = "ignore"


FilterValue = tuple[str, str | Decimal | bool]
"""A filter value with its DynamoDB type: ("S", "PAID"), ("N", Decimal(1)), ("BOOL", True)."""


@dataclass(frozen=True)
class Measure:
    name: str
    op: MeasureOp
    attribute: str | None = None
    type: OrderedType | None = None
    """What a min/max compares (N unless given); None for every other op."""

    @property
    def stored(self) -> tuple[str, ...]:
        """The attributes this measure keeps on the aggregate item (an avg's sum and count)."""
        if self.op is MeasureOp.AVG:
            return (self.name + AVG_SUM_SUFFIX, self.name + AVG_COUNT_SUFFIX)
        return (self.name,)


class Extreme(NamedTuple):
    """A min or max measure, as the fold and the readers need it."""

    name: str
    op: MeasureOp
    attribute: str
    type: OrderedType


@dataclass(frozen=True)
class ItemFilter:
    """Only source items whose ``attribute`` equals one of ``values`` contribute."""

    attribute: str
    values: frozenset[FilterValue]


@dataclass(frozen=True)
class AggregationSpec:
    partition_key: str
    group_by: str
    """The aggregate table's key attribute: the source attribute grouped by, or, for a composite
    group, the part names joined by '#' (``group_parts.key_name``)."""
    measures: tuple[Measure, ...]
    sort_key: str | None = None
    item_filter: ItemFilter | None = None
    ttl_deletes: TtlDeletes = TtlDeletes.SUBTRACT
    group_parts: tuple[GroupPart, ...] = ()
    """The parts of a composite group (see handler/group_parts.py); empty when group_by is one attribute."""
    timezone: str | None = None
    """The zone time buckets are labelled in; None is UTC."""

    @property
    def single_source(self) -> bool:
        """Each aggregate item has exactly one source item: no sort key, grouped by the partition key.

        Then the idempotency state is one position on the aggregate item itself; otherwise it is
        one ledger entry per (aggregate key, source item), because an aggregate item fed by many
        source items could not hold one position for each of them (see handler/transaction.py).
        A composite group is never single-source: even one made of the partition key and a bucket
        of an attribute sees an item move between buckets, so two aggregate items share it.
        """
        return not self.group_parts and self.sort_key is None and self.group_by == self.partition_key

    @property
    def first_bucket_part(self) -> GroupPart | None:
        """The first part with a time bucket (what ``index_by_bucket`` indexes and ``ops query`` ranges over)."""
        return next((part for part in self.group_parts if part.bucket is not None), None)

    @cached_property
    def sums(self) -> tuple[tuple[str, str], ...]:
        """(measure name, attribute) of the sum measures, precomputed for the hot path."""
        return tuple((m.name, m.attribute) for m in self.measures if m.op is MeasureOp.SUM and m.attribute)

    @cached_property
    def counts(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.measures if m.op is MeasureOp.COUNT)

    @cached_property
    def latests(self) -> tuple[tuple[str, str], ...]:
        return tuple((m.name, m.attribute) for m in self.measures if m.op is MeasureOp.LATEST and m.attribute)

    @cached_property
    def summed(self) -> tuple[tuple[str, str], ...]:
        """(stored name, attribute) of every number a record adds its attribute's value to: sums and avg sums."""
        return self.sums + tuple((total, attribute) for _, attribute, total, _ in self.averages)

    @cached_property
    def counted(self) -> tuple[str, ...]:
        """Stored names a contributing record adds 1 to: counts and avg counts."""
        return self.counts + tuple(count for *_, count in self.averages)

    @cached_property
    def averages(self) -> tuple[tuple[str, str, str, str], ...]:
        """(measure name, attribute, sum attribute, count attribute) of the avg measures."""
        return tuple(
            (m.name, m.attribute, m.name + AVG_SUM_SUFFIX, m.name + AVG_COUNT_SUFFIX)
            for m in self.measures
            if m.op is MeasureOp.AVG and m.attribute
        )

    @cached_property
    def extremes(self) -> tuple[Extreme, ...]:
        """The min and max measures, in the order declared."""
        return tuple(
            Extreme(m.name, m.op, m.attribute, m.type or OrderedType.NUMBER)
            for m in self.measures
            if m.op in EXTREME_OPS and m.attribute
        )

    @cached_property
    def stored_numbers(self) -> tuple[str, ...]:
        """Every number the aggregate item keeps by ADD: sums, counts, and each avg's sum and count.

        What a recount or a reconcile compares exactly; a single-source min/max of type N is a number
        too, but SET, not added, so it is not among them."""
        names = dict.fromkeys(self.counts)
        names.update(dict.fromkeys(name for name, _ in self.sums))
        for _, _, total, count in self.averages:
            names.update(dict.fromkeys((total, count)))
        return tuple(m for measure in self.measures for m in measure.stored if m in names)

    @property
    def uses_extremes_table(self) -> bool:
        """min/max measures that the aggregate item cannot hold alone: many source items feed it.

        A single-source aggregate's one item IS its min and max, so the value is SET on the
        aggregate item; any other aggregation keeps one extremes-table entry per (key, item, measure).
        """
        return bool(self.extremes) and not self.single_source

    def to_json(self) -> str:
        """The canonical JSON form that the component puts in the Lambda's environment."""
        return json.dumps(spec_to_dict(self), sort_keys=True, separators=(",", ":"))


def spec_to_dict(spec: AggregationSpec) -> dict[str, Any]:
    group_by: Any = [part.to_json() for part in spec.group_parts] if spec.group_parts else spec.group_by
    data: dict[str, Any] = {
        "partition_key": spec.partition_key,
        "group_by": group_by,
        "measures": [
            {
                "name": m.name,
                "op": m.op.value,
                **({"attribute": m.attribute} if m.attribute else {}),
                **({"type": m.type.value} if m.type else {}),
            }
            for m in spec.measures
        ],
        "ttl_deletes": spec.ttl_deletes.value,
    }
    if spec.sort_key:
        data["sort_key"] = spec.sort_key
    if spec.timezone:
        data["timezone"] = spec.timezone
    if spec.item_filter:
        data["filter"] = {
            "attribute": spec.item_filter.attribute,
            "values": sorted((_filter_value_to_json(v) for v in spec.item_filter.values), key=repr),
        }
    return data


def parse_spec(raw: Mapping[str, Any] | str) -> AggregationSpec:
    """Validate an aggregation definition given as a dict or its JSON text.

    Parameters
    ----------
    raw:
        Keys ``partition_key``, ``sort_key``, ``group_by`` (an attribute or a list of parts),
        ``timezone``, ``measures``, ``filter`` and ``ttl_deletes``, as the component's arguments
        name them.

    Raises
    ------
    SpecError
        With a message that names the field that is wrong.
    """
    data = _as_mapping(raw)
    unknown = set(data) - _FIELDS
    if unknown:
        raise SpecError(f"unknown aggregation field(s): {', '.join(sorted(unknown))}")
    partition_key = attribute_name(data.get("partition_key"), "partition_key")
    sort_key = _optional_attribute_name(data.get("sort_key"), "sort_key")
    if sort_key == partition_key:
        raise SpecError("sort_key must differ from partition_key")
    raw_group = data.get("group_by")
    parts = () if raw_group is None or isinstance(raw_group, str) else parse_group_parts(raw_group)
    group_by = key_name(parts) if parts else _optional_attribute_name(raw_group, "group_by") or partition_key
    written = {group_by: "group_by", **{part.name: "a group_by part" for part in parts}}
    measures = _parse_measures(data.get("measures"), written)
    return AggregationSpec(
        partition_key=partition_key,
        sort_key=sort_key,
        group_by=group_by,
        measures=measures,
        item_filter=_parse_filter(data.get("filter")),
        ttl_deletes=_parse_enum(TtlDeletes, data.get("ttl_deletes", "subtract"), "ttl_deletes"),
        group_parts=parts,
        timezone=parse_timezone(data.get("timezone"), parts),
    )


def _as_mapping(raw: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
        except RecursionError:  # nested deeper than the parser's stack
            raise SpecError("aggregation spec is not valid JSON: nested too deeply") from None
        except ValueError as error:  # JSONDecodeError, and an integer past Python's 4300-digit conversion limit
            raise SpecError(f"aggregation spec is not valid JSON: {error}") from None
    if not isinstance(raw, Mapping):
        raise SpecError(f"aggregation spec must be an object, got {type(raw).__name__}")
    return raw


def _no_constant(name: str) -> Any:
    raise SpecError(f"aggregation spec holds {name}, which is not a number DynamoDB can store")


def repeated_keys(pairs: list[tuple[str, Any]]) -> list[str]:
    """The keys a JSON object gives more than once, in the order they repeat: json.loads would keep
    the last value, silently.

    Every reader of a user's JSON (the spec here, the operator tools' rows and stack outputs) uses
    it in its ``object_pairs_hook``, each raising its own error.
    """
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in pairs:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    return repeated


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    repeated = repeated_keys(pairs)
    if repeated:
        raise SpecError(f"aggregation spec gives {repeated[0]!r} twice in one object")
    return dict(pairs)


def _optional_attribute_name(value: Any, field: str) -> str | None:
    return None if value is None else attribute_name(value, field)


def _parse_measures(raw: Any, written: Mapping[str, str]) -> tuple[Measure, ...]:
    """``written``: the other attributes of an aggregate item (its key, its parts), by what they are."""
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise SpecError("measures must be a non-empty list of {name, op, attribute} objects")
    if len(raw) > MAX_MEASURES:
        raise SpecError(f"measures has {len(raw)} entries; at most {MAX_MEASURES} are allowed")
    measures = tuple(_parse_measure(item, index) for index, item in enumerate(raw))
    extremes = sum(1 for measure in measures if measure.op in EXTREME_OPS)
    if extremes > MAX_EXTREMES:
        raise SpecError(f"measures has {extremes} min/max measures; at most {MAX_EXTREMES} are allowed")
    stored = [name for measure in measures for name in measure.stored]
    if len(stored) > MAX_MEASURES:
        raise SpecError(
            f"measures store {len(stored)} attributes (an avg stores two); at most {MAX_MEASURES} are allowed"
        )
    names: set[str] = set()
    taken: dict[str, str] = dict(written)
    for measure in measures:
        if measure.name in names:
            raise SpecError(f"measures[].name {measure.name!r} is used twice")
        names.add(measure.name)
        for name in dict.fromkeys((measure.name, *measure.stored)):  # an avg's own name is what readers show
            if name in taken:
                stores = "" if name == measure.name else f" stores {name!r}, which"
                raise SpecError(f"measures[].name {measure.name!r}{stores} collides with {taken[name]}")
            if not _NAME_PATTERN.fullmatch(name):
                raise SpecError(f"measures[].name {measure.name!r} stores {name!r}, longer than 255 characters")
            taken[name] = (
                f"measure {measure.name!r}" if name == measure.name else f"measure {measure.name!r}'s {name!r}"
            )
    return measures


def _parse_measure(raw: Any, index: int) -> Measure:
    where = f"measures[{index}]"
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where} must be an object, got {raw!r}")
    unknown = set(raw) - {"name", "op", "attribute", "type"}
    if unknown:
        raise SpecError(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise SpecError(f"{where}.name must be an attribute name (letters, digits, _ . -), got {name!r}")
    if name.startswith(INTERNAL_PREFIX):
        raise SpecError(
            f"{where}.name {name!r} starts with {INTERNAL_PREFIX!r}, which is reserved for the handler's state"
        )
    op = _parse_enum(MeasureOp, raw.get("op"), f"{where}.op")
    attribute = raw.get("attribute")
    kind = _ordered_type(raw, op, f"{where} ({name!r})")
    if op is MeasureOp.COUNT:
        if attribute is not None:
            raise SpecError(f"{where}.attribute must be omitted for op 'count'")
        return Measure(name=name, op=op)
    if not isinstance(attribute, str) or not attribute:
        raise SpecError(f"{where}.attribute is required for op {op.value!r}")
    return Measure(name=name, op=op, attribute=attribute, type=kind)


def _ordered_type(raw: Mapping[str, Any], op: MeasureOp, where: str) -> OrderedType | None:
    """A min/max's type (N unless given); any other op takes none (avg and sum add numbers only)."""
    if op not in EXTREME_OPS:
        if "type" in raw:
            raise SpecError(f"{where}.type is only for 'min' and 'max'; op {op.value!r} takes none")
        return None
    kind = raw.get("type", OrderedType.NUMBER.value)
    try:
        return OrderedType(kind)
    except ValueError:
        why = "cannot be ordered" if kind in _UNORDERED_TYPES else "is not a DynamoDB type min and max compare"
        raise SpecError(
            f"{where}.type {kind!r} {why}: min and max take 'N' (numbers) or 'S' (strings, by UTF-8 bytes, "
            "so ISO-8601 dates in one form compare as dates)"
        ) from None


def _parse_filter(raw: Any) -> ItemFilter | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"attribute", "values"}:
        raise SpecError("filter must be an object with exactly 'attribute' and 'values'")
    attribute = attribute_name(raw["attribute"], "filter.attribute")
    values = raw["values"]
    if not isinstance(values, Sequence) or isinstance(values, str | bytes | bytearray) or not values:
        raise SpecError("filter.values must be a non-empty list")
    return ItemFilter(attribute=attribute, values=frozenset(_filter_value(v) for v in values))


def _filter_value(value: Any) -> FilterValue:
    """A value as DynamoDB types it: bare JSON values, or typed ones ({"N": "1.50"}) for exact numbers."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, raw),) = value.items()
        if kind in ("S", "BOOL") and isinstance(raw, str if kind == "S" else bool):
            return (kind, raw)
        if kind == "N" and isinstance(raw, str):
            return ("N", _filter_number(raw))
    if isinstance(value, bool):  # before numbers: bool is an int in Python
        return ("BOOL", value)
    if isinstance(value, str):
        return ("S", value)
    if isinstance(value, int | float | Decimal):
        return ("N", _filter_number(str(value)))
    raise SpecError(f"filter.values may hold strings, numbers and booleans, got {value!r}")


def _filter_number(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise SpecError(f"filter.values holds {text!r}, which is not a number") from None
    problem = storage_problem(number)
    if problem:
        raise SpecError(f"filter.values holds {text!r}, which {problem}: no item could ever match it")
    return number


def _filter_value_to_json(value: FilterValue) -> str | bool | dict[str, str]:
    """Numbers typed, as text, so the Lambda gets them exactly (a JSON float would round them)."""
    _, raw = value
    if isinstance(raw, Decimal):
        return {"N": str(raw)}
    return raw


def _parse_enum(enum: type[Enum], value: Any, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum)
        raise SpecError(f"{field} must be one of {allowed}, got {value!r}") from None
