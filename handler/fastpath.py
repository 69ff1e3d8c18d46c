"""One fused loop for the common record shape, because per-record Python calls dominate the cost.

Decoding through the general path (records.py, contribution.py) costs about 80 calls a record;
this reads the handful of values an aggregation needs in one function. It only takes records it is
sure about: string keys (exactly the partition and sort key the spec names) and group values (or
composite groups, read by the one ``grouping`` function), the images the event must carry, N
amounts of at most 38 digits, no TTL identity, no filter. For anything else it returns None and
the planner uses the general path, which also decides quarantine. tests/unit/test_fastpath.py
checks that both paths plan every generated batch identically.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .attributes import MAX_LATEST_BYTES, MAX_NUMBER_DIGITS, parse_number
from .contribution import FAST_KEY_CHARS, extreme_value
from .errors import InvalidImage
from .fold import EXACT, too_wide, written_extremes
from .grouping import composite_group
from .position import is_sequence_number, item_token, position_text, stream_label
from .records import IMAGES_CARRIED, creation_seconds
from .spec import AggregationSpec
from .types import Delta

SHORT_TEXT = MAX_LATEST_BYTES // 8
"""A string this short is a valid ``latest`` value whatever its characters (UTF-8, JSON escapes)."""

FastResult = tuple[str, str, str, list[tuple[str, dict[str, Any], Delta]]]
"""(sequence number, stream position, item token, [(group token, group value, delta), ...])."""


def fast_reader(spec: AggregationSpec) -> Callable[[Any, int, float], FastResult | None] | None:
    """A reader specialised to ``spec``, or None when the spec needs the general path (a filter)."""
    if spec.item_filter is not None:
        return None
    partition_key, sort_key, group_by = spec.partition_key, spec.sort_key, spec.group_by
    composite = bool(spec.group_parts)
    key_count = 1 if sort_key is None else 2
    labels: dict[str, str] = {}
    sums, latests, extremes = spec.summed, spec.latests, spec.extremes
    counted = dict.fromkeys(spec.counted, Decimal(1))

    def image_values(
        image: Any, partition: Any, sort: Any, with_latest: bool
    ) -> tuple[str, dict[str, Any], dict[str, Decimal], dict[str, Any], dict[str, Any]] | None:
        """Group, sums and counts, min/max values (and ``latest`` values, only wanted from a new image);
        None also for an image of another item than ``Keys`` names (the general path quarantines it)."""
        if type(image) is not dict:
            return None
        if image.get(partition_key) != partition or (sort_key is not None and image.get(sort_key) != sort):
            return None
        if composite:
            try:
                group_token, group = composite_group(spec, image)
            except InvalidImage:
                return None  # the general path quarantines it, with the reason
        else:
            value = image.get(group_by)
            if type(value) is not dict or len(value) != 1:
                return None
            group, group_text = value, value.get("S")
            if type(group_text) is not str or not 0 < len(group_text) <= FAST_KEY_CHARS:
                return None
            group_token = "S:" + group_text
        numbers = counted.copy()
        for name, attribute in sums:
            value = image.get(attribute)
            text = value.get("N") if type(value) is dict and len(value) == 1 else None
            if type(text) is not str or len(text) > MAX_NUMBER_DIGITS or "e" in text or "E" in text:
                return None  # its change may need more than 38 digits (``too_wide``): the general path decides
            try:
                numbers[name] = parse_number(text, attribute)  # the general path's one number rule
            except InvalidImage:
                return None  # the general path quarantines it, with the reason
        latest = {}
        for name, attribute in latests:
            value = image.get(attribute)
            if type(value) is not dict or len(value) != 1:
                return None
            text = value.get("S")
            if type(text) is not str or len(text) > SHORT_TEXT:  # other types and long text: the general path
                return None
            if with_latest:
                latest[name] = value
        if not extremes:
            return group_token, group, numbers, latest, {}
        try:
            values = {extreme.name: extreme_value(extreme, image.get(extreme.attribute)) for extreme in extremes}
        except InvalidImage:
            return None  # the general path quarantines it, with the reason
        return group_token, group, numbers, latest, values

    def read(record: Any, position: int, now: float) -> FastResult | None:
        if type(record) is not dict or record.get("eventSource") != "aws:dynamodb" or "userIdentity" in record:
            return None
        event_name = record.get("eventName")
        carries = IMAGES_CARRIED.get(event_name) if type(event_name) is str else None  # type: ignore[call-overload]
        body = record.get("dynamodb")
        if carries is None or type(body) is not dict:
            return None
        sequence_text = body.get("SequenceNumber")
        keys = body.get("Keys")
        if not is_sequence_number(sequence_text) or type(keys) is not dict or len(keys) != key_count:
            return None
        partition = keys.get(partition_key)
        if type(partition) is not dict or len(partition) != 1 or type(partition.get("S")) is not str:
            return None
        token = "S:" + partition["S"]
        if sort_key is not None:
            sort = keys.get(sort_key)
            if type(sort) is not dict or len(sort) != 1 or type(sort.get("S")) is not str:
                return None
            token = item_token(token, "S:" + sort["S"])
        else:
            sort = None
        old = new = None
        if carries[0]:
            old = image_values(body.get("OldImage"), partition, sort, False)
            if old is None:
                return None
        if carries[1]:
            new = image_values(body.get("NewImage"), partition, sort, True)
            if new is None:
                return None
        seconds = creation_seconds(body.get("ApproximateCreationDateTime"))
        created_at = int(now if seconds is None else seconds)
        arn = record.get("eventSourceARN")
        label = labels.get(arn) if type(arn) is str else None
        if label is None:
            if type(arn) is not str or not arn:
                return None
            label = labels[arn] = stream_label(arn)
        at = position_text(label, sequence_text)
        if old is not None and new is not None and old[0] == new[0]:
            numbers, before = new[2], old[2]
            try:
                for name in numbers:
                    numbers[name] = EXACT.subtract(numbers[name], before[name])
            except ArithmeticError:
                return None
            extremes = written_extremes(old[4], new[4], numbers, new[3])
            delta = Delta(position, at, token, created_at, numbers, new[3], extremes)
            if too_wide(delta):
                return None  # the general path quarantines it, with the reason
            return sequence_text, at, token, [(new[0], new[1], delta)]
        deltas = []
        if old is not None:
            negated = {name: EXACT.minus(value) for name, value in old[2].items()}
            gone = dict.fromkeys(old[4])
            deltas.append((old[0], old[1], Delta(position, at, token, created_at, negated, {}, gone)))
        if new is not None:
            deltas.append((new[0], new[1], Delta(position, at, token, created_at, new[2], new[3], new[4])))
        return sequence_text, at, token, deltas

    return read
