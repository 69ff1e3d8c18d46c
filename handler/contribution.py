"""What one source record adds to and takes from the aggregates: pure, no AWS.

The invariant is that the aggregate for a key equals the aggregation over the source items that
exist now. So a record's effect is "take away what the old image contributed, add what the new
image contributes", and an image that is invalid or filtered out contributes nothing, both when
it appears and when it goes away. That symmetry is what keeps MODIFY and REMOVE exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .attributes import (
    MAX_KEY_BYTES,
    MAX_LATEST_BYTES,
    MAX_SORT_KEY_BYTES,
    AttributeValue,
    client_value,
    key_number_text,
    key_token,
    key_value,
    parse_number,
    scalar_value,
    wire_size,
)
from .errors import InvalidImage
from .grouping import composite_group
from .position import item_token
from .records import IMAGES_CARRIED, StreamRecord
from .spec import AggregationSpec, Extreme, ItemFilter, OrderedType, TtlDeletes
from .types import ImageContribution, ReasonKind, RecordEffect, reason

ONE = Decimal(1)
FAST_KEY_CHARS = MAX_KEY_BYTES // 4
"""A string this short is a valid key whatever its characters (UTF-8 takes at most 4 bytes each)."""


def image_contribution(spec: AggregationSpec, image: Mapping[str, AttributeValue]) -> ImageContribution | None:
    """The image's contribution, or None when the filter leaves it out.

    Raises
    ------
    InvalidImage
        When the group or a measure's attribute is missing or has the wrong type.
    """
    if spec.item_filter and not _passes_filter(spec.item_filter, image):
        return None
    composite = composite_group(spec, image) if spec.group_parts else None
    group = image.get(spec.group_by) if composite is None else composite.value
    if group is None:
        raise InvalidImage(f"group_by attribute {spec.group_by!r} is missing")
    numbers: dict[str, Decimal] = dict.fromkeys(spec.counted, ONE)
    for name, attribute in spec.summed:
        value = image.get(attribute)
        if value is None:
            raise InvalidImage(f"attribute {attribute!r} for measure {name!r} is missing")
        numbers[name] = _sum_operand(value, attribute)
    extremes = {extreme.name: extreme_value(extreme, image.get(extreme.attribute)) for extreme in spec.extremes}
    latest: dict[str, AttributeValue] = {}
    for name, attribute in spec.latests:
        value = image.get(attribute)
        if value is None:
            raise InvalidImage(f"attribute {attribute!r} for measure {name!r} is missing")
        if not isinstance(value, dict) or len(value) != 1:
            raise InvalidImage(f"attribute {attribute!r} for measure {name!r} is not a typed attribute value")
        size = wire_size(value)
        if size > MAX_LATEST_BYTES:
            raise InvalidImage(
                f"attribute {attribute!r} for measure {name!r} is {size} bytes; latest values hold {MAX_LATEST_BYTES}"
            )
        latest[name] = client_value(value)
    if composite is not None:
        return ImageContribution(composite.token, composite.value, numbers, latest, extremes)
    text = group.get("S") if type(group) is dict and len(group) == 1 else None
    if isinstance(text, str) and 0 < len(text) <= FAST_KEY_CHARS:  # the common case, without the helpers
        return ImageContribution("S:" + text, group, numbers, latest, extremes)
    token, value = key_token(group, spec.group_by), key_value(group, spec.group_by)
    return ImageContribution(token, value, numbers, latest, extremes)


def extreme_value(extreme: Extreme, value: AttributeValue | None) -> AttributeValue:
    """The value a min/max stores for an image: numbers in their one key text (``1.50`` is ``1.5``, as
    DynamoDB compares them), strings as they are, at most a sort key's 1024 bytes and not empty.

    Raises
    ------
    InvalidImage
        When the attribute is missing, of another type than the measure's, or not storable as a sort key.
    """
    where = f"attribute {extreme.attribute!r} for measure {extreme.name!r}"
    if value is None:
        raise InvalidImage(f"{where} is missing")
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidImage(f"{where} is not a typed attribute value")
    raw = value.get(extreme.type.value)
    if raw is None:
        kind = next(iter(value), "?")
        raise InvalidImage(f"{where} must be of type {extreme.type.value} to compare, got type {kind}")
    if extreme.type is OrderedType.NUMBER:
        return {"N": key_number_text(parse_number(raw, extreme.attribute))}
    if not isinstance(raw, str) or not 0 < len(raw.encode("utf-8", "surrogatepass")) <= MAX_SORT_KEY_BYTES:
        raise InvalidImage(f"{where} must be a string of 1 to {MAX_SORT_KEY_BYTES} bytes to compare")
    return {"S": raw}


def record_effect(spec: AggregationSpec, record: StreamRecord) -> RecordEffect:
    """Decide what ``record`` does to the aggregates; never raises for bad data."""
    try:
        item = record_item_token(spec, record.keys)
    except InvalidImage as error:
        return RecordEffect(item_token=None, quarantine_reason=reason(ReasonKind.BAD_KEY, str(error)))
    shape_problem = _missing_image(record)
    if shape_problem or record.event_name is None:
        return RecordEffect(item_token=item, quarantine_reason=shape_problem)
    other_item = _image_of_another_item(spec, record)
    if other_item:
        return RecordEffect(item_token=item, quarantine_reason=reason(ReasonKind.BAD_KEY, other_item))
    if record.is_ttl_delete and spec.ttl_deletes is TtlDeletes.IGNORE:
        return RecordEffect(item_token=item, notes=("ttl-delete-ignored",))
    carries_old, carries_new = IMAGES_CARRIED[record.event_name]
    removed, old_problem = _safe_contribution(spec, record.old_image if carries_old else None)
    added, new_problem = _safe_contribution(spec, record.new_image if carries_new else None)
    notes = ("old-image-invalid",) if old_problem else ()
    why = reason(ReasonKind.INVALID_NEW_IMAGE, new_problem) if new_problem else None
    return RecordEffect(item, removed=removed, added=added, quarantine_reason=why, notes=notes)


def _passes_filter(item_filter: ItemFilter, image: Mapping[str, AttributeValue]) -> bool:
    value = image.get(item_filter.attribute)
    if not isinstance(value, dict):  # missing, or not a typed value: equal to none of the filter's
        return False
    try:
        return scalar_value(value, item_filter.attribute) in item_filter.values
    except InvalidImage:
        return False


def _sum_operand(value: AttributeValue, attribute: str) -> Decimal:
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidImage(f"attribute {attribute!r} is not a typed attribute value")
    text = value.get("N")
    if text is None:
        kind = next(iter(value), "?")
        raise InvalidImage(f"attribute {attribute!r} must be a number (N) to sum, got type {kind}")
    return parse_number(text, attribute)


def record_item_token(spec: AggregationSpec, keys: Mapping[str, AttributeValue]) -> str:
    """The source item a record is about, from its ``Keys``.

    Keys naming an attribute the spec does not know mean the spec is wrong about the table (a
    ``sort_key`` left out for an existing table): items that differ only in it would share one
    idempotency entry and undercount, so such a record is refused, never applied.
    """
    value = keys.get(spec.partition_key)
    if value is None:
        raise InvalidImage(f"Keys has no partition key {spec.partition_key!r}")
    unknown = sorted(set(keys) - {spec.partition_key, spec.sort_key})
    if unknown:
        raise InvalidImage(
            f"Keys has attribute(s) {', '.join(map(repr, unknown))} that the aggregation does not name as its "
            "sort_key: set sort_key to the source table's sort key"
        )
    sort_token = None
    if spec.sort_key is not None:
        sort_value = keys.get(spec.sort_key)
        if sort_value is None:
            raise InvalidImage(f"Keys has no sort key {spec.sort_key!r}")
        sort_token = key_token(sort_value, spec.sort_key)
    return item_token(key_token(value, spec.partition_key), sort_token)


def _missing_image(record: StreamRecord) -> str | None:
    if record.event_name is None:
        return reason(ReasonKind.NOT_A_STREAM_RECORD, f"unknown eventName {str(record.raw.get('eventName'))[:40]!r}")
    needs_old, needs_new = IMAGES_CARRIED[record.event_name]
    if needs_old and record.old_image is None:
        return f"{record.event_name.value} without OldImage: the stream must be NEW_AND_OLD_IMAGES"
    if needs_new and record.new_image is None:
        return f"{record.event_name.value} without NewImage: the stream must be NEW_AND_OLD_IMAGES"
    return None


def _image_of_another_item(spec: AggregationSpec, record: StreamRecord) -> str | None:
    """Why an image the record carries is not of the item its ``Keys`` name, or None.

    DynamoDB's images always hold the item's key attributes, equal to ``Keys``; a record whose images
    disagree would add one item's amounts under another item's position (or another group)."""
    carries_old, carries_new = IMAGES_CARRIED[record.event_name] if record.event_name else (False, False)
    images = (
        ("OldImage", record.old_image if carries_old else None),
        ("NewImage", record.new_image if carries_new else None),
    )
    for which, image in images:
        if image is None:
            continue
        for attribute in filter(None, (spec.partition_key, spec.sort_key)):
            value = image.get(attribute)
            try:
                same = value is not None and key_token(value, attribute) == key_token(record.keys[attribute], attribute)
            except InvalidImage:
                same = False
            if not same:
                return f"{which}'s {attribute!r} is not the one Keys names: the image is of another item"
    return None


def _safe_contribution(
    spec: AggregationSpec, image: Mapping[str, AttributeValue] | None
) -> tuple[ImageContribution | None, str | None]:
    if image is None:
        return None, None
    try:
        return image_contribution(spec, image), None
    except InvalidImage as error:
        return None, str(error)
