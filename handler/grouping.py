"""A composite group's aggregate key, derived from an item image: pure, and the only place it is derived.

The handler, ``reconcile``, ``backfill`` and ``query`` all call these functions, so a key can
never be spelled two ways.

**The encoding.** The key is one string (DynamoDB type S): each part's text, escaped, joined by
``#``. Escaping doubles every backslash and puts one before every ``#`` (``\\`` becomes ``\\\\``,
``#`` becomes ``\\#``), so reading left to right, a bare ``#`` always separates parts and the
split is unambiguous for any values. A part's text is:

- an S attribute: the string itself (never empty: an empty part is invalid data);
- an N attribute: the number normalised and written in fixed point, as DynamoDB compares numbers
  (``1.50`` and ``1.5`` are one group: ``1.5``);
- a time bucket: its label (``2026-11-28``; see ``buckets``).

So ``CustomerId`` C-17 with ``OrderDate`` 2026-11-28T09:30Z by day is ``C-17#2026-11-28``, and a
customer named ``A#1`` is ``A\\#1#2026-11-28``. The whole key is at most 1024 bytes
(``MAX_COMPOSITE_KEY_BYTES``); a longer one is invalid data. Each part is also written to the aggregate
item as its own attribute, with its source type (``part_attributes``), read back from the key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from .attributes import AttributeValue, key_number_text, parse_number
from .buckets import DateForm, label, wall_time, zone
from .errors import InvalidImage, MalformedKey
from .spec import AggregationSpec, GroupPart

SEPARATOR = "#"
ESCAPE = "\\"

MAX_COMPOSITE_KEY_BYTES = 1024
"""DynamoDB's limit for a sort key, not the 2048 of a partition key: with ``index_by_bucket`` the aggregate
key sorts the bucket index, and DynamoDB rejects every write to an item whose index key is too long
(also when the index is added later). One limit whatever the index, so the handler never counts what it
cannot write, nor reconcile what the handler set aside."""

LABEL_CACHE_SIZE = 4096
"""Date texts remembered per part, then forgotten all at once (a bound, not an eviction policy)."""

PartReader = Callable[[Mapping[str, AttributeValue]], str]


class Group(NamedTuple):
    """A composite group as the handler keys it."""

    token: str
    """``S:`` and the key, like ``attributes.key_token`` of the key value."""
    value: AttributeValue
    """``{"S": key}``, the aggregate item's key."""


def escape(text: str) -> str:
    if SEPARATOR not in text and ESCAPE not in text:  # the common case, without copying
        return text
    return text.replace(ESCAPE, ESCAPE + ESCAPE).replace(SEPARATOR, ESCAPE + SEPARATOR)


def encode_key(texts: list[str]) -> str:
    """The key of a group whose parts have these texts (in spec order)."""
    return SEPARATOR.join(escape(text) for text in texts)


def decode_key(key: str) -> list[str]:
    """The part texts of a key ``encode_key`` made; ``MalformedKey`` for text it cannot have made."""
    texts: list[str] = []
    current: list[str] = []
    characters = iter(key)
    for character in characters:
        if character == ESCAPE:
            following = next(characters, "")
            if following not in (ESCAPE, SEPARATOR):
                raise MalformedKey(f"{key[:60]!r} has a {ESCAPE!r} that escapes neither {ESCAPE!r} nor {SEPARATOR!r}")
            current.append(following)
        elif character == SEPARATOR:
            texts.append("".join(current))
            current = []
        else:
            current.append(character)
    texts.append("".join(current))
    return texts


def composite_group(spec: AggregationSpec, image: Mapping[str, AttributeValue]) -> Group:
    """The group an image belongs to under a composite ``group_by``.

    Raises
    ------
    InvalidImage
        When a part's attribute is missing, has another type or form than the spec says, or the
        key would be longer than DynamoDB allows; the message names the attribute.
    """
    key = encode_key([read(image) for read in _readers(spec)])
    if len(key) * 4 > MAX_COMPOSITE_KEY_BYTES and len(key.encode()) > MAX_COMPOSITE_KEY_BYTES:
        raise InvalidImage(
            f"group_by parts make a {len(key.encode())}-byte key: a composite key must be 1 to "
            f"{MAX_COMPOSITE_KEY_BYTES} bytes (DynamoDB's limit for the bucket index's sort key)"
        )
    return Group("S:" + key, {"S": key})


def part_attributes(spec: AggregationSpec, key_value: AttributeValue) -> dict[str, AttributeValue]:
    """The part attributes an aggregate item with this key carries besides its key (``CustomerId``,
    ``OrderDate_day``), each with its source type; a one-part group's only part is the key itself."""
    texts = decode_key(key_value["S"])
    if len(texts) != len(spec.group_parts):
        raise MalformedKey(f"key {key_value['S'][:60]!r} has {len(texts)} parts; group_by has {len(spec.group_parts)}")
    return {
        part.name: {"N" if part.bucket is None and part.type == "N" else "S": text}
        for part, text in zip(spec.group_parts, texts, strict=True)
        if part.name != spec.group_by
    }


def key_attributes(spec: AggregationSpec, key_value: AttributeValue) -> dict[str, AttributeValue]:
    """``part_attributes`` for a composite group, nothing for a single attribute (its key is its only part)."""
    return part_attributes(spec, key_value) if spec.group_parts else {}


_cache: dict[int, tuple[AggregationSpec, tuple[PartReader, ...]]] = {}


def _readers(spec: AggregationSpec) -> tuple[PartReader, ...]:
    """One reader per part, built once per spec (the hot path calls this for every image)."""
    entry = _cache.get(id(spec))
    if entry is None or entry[0] is not spec:
        if len(_cache) > 64:
            _cache.clear()
        entry = _cache[id(spec)] = (spec, tuple(_reader(part, spec.timezone) for part in spec.group_parts))
    return entry[1]


def attribute_part_text(part: GroupPart, value: AttributeValue) -> str:
    """An attribute part's text in the key for ``value``, by the rules images are read with
    (for the operator's ``query``, which is given values rather than items)."""
    return _reader(part, None)({part.attribute: value})


def _reader(part: GroupPart, timezone: str | None) -> PartReader:
    attribute, bucket = part.attribute, part.bucket
    if bucket is None:
        return _number_reader(attribute) if part.type == "N" else _text_reader(attribute)
    tz, form, date_format = zone(timezone), part.date, part.format
    kind = "N" if form in (DateForm.EPOCH_SECONDS, DateForm.EPOCH_MILLIS) else "S"
    labels: dict[str, str] = {}
    """Label by date text: a label is a function of the text alone, and a MODIFY's two images, or a
    batch's orders of one day, often carry the same text, which is then parsed once."""

    def read_bucket(image: Mapping[str, AttributeValue]) -> str:
        value = _present(image, attribute)
        text = value.get(kind) if type(value) is dict and len(value) == 1 else None
        known = labels.get(text) if type(text) is str else None
        if known is not None:
            return known
        result = label(bucket, wall_time(value, form, date_format, tz, attribute))
        if type(text) is str:
            if len(labels) >= LABEL_CACHE_SIZE:
                labels.clear()
            labels[text] = result
        return result

    return read_bucket


def _text_reader(attribute: str) -> PartReader:
    def read_text(image: Mapping[str, AttributeValue]) -> str:
        value = _present(image, attribute)
        text = value.get("S") if type(value) is dict and len(value) == 1 else None
        if not isinstance(text, str):
            raise InvalidImage(f"group_by part {attribute!r} must be a string (S), got type {_kind(value)}")
        if not text:
            raise InvalidImage(f"group_by part {attribute!r} is empty: a group needs a value")
        return text

    return read_text


def _number_reader(attribute: str) -> PartReader:
    def read_number(image: Mapping[str, AttributeValue]) -> str:
        value = _present(image, attribute)
        if type(value) is not dict or len(value) != 1 or "N" not in value:
            raise InvalidImage(f"group_by part {attribute!r} must be a number (N), got type {_kind(value)}")
        number = parse_number(value["N"], attribute)
        return "0" if number.is_zero() else key_number_text(number)  # -0 is 0, as DynamoDB compares

    return read_number


def _present(image: Mapping[str, AttributeValue], attribute: str) -> AttributeValue:
    value = image.get(attribute)
    if value is None:
        raise InvalidImage(f"group_by attribute {attribute!r} is missing")
    return value


def _kind(value: object) -> str:
    return next(iter(value), "?") if isinstance(value, dict) and value else "?"
