"""A group_by of several parts: attributes, and time buckets of date attributes. Their definition and parser.

``group_by`` is one attribute (the aggregate key is that attribute's value, as it always was) or a
list of parts, each an attribute name or an object::

    ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}]
    {"attribute": "StoreId", "type": "N"}                      # a number attribute
    {"attribute": "CreatedAt", "bucket": "hour", "date": "epoch_millis"}
    {"attribute": "InvoiceDate", "bucket": "month", "format": "%m%d%Y"}

The aggregate key of a composite group is one string (see ``grouping``), kept in an attribute whose
name is the part names joined by ``#`` (``CustomerId#OrderDate_day``), so the name says how to read
the value. Each part is also written as its own attribute, named for the attribute (``CustomerId``)
or the attribute and bucket (``OrderDate_day``). Every mistake is a ``SpecError`` naming the part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .attributes import MAX_KEY_NAME_BYTES, attribute_name, name_bytes
from .buckets import Bucket, DateForm, label, zone_problem
from .errors import SpecError

MAX_GROUP_PARTS = 8
"""Keeps the composite key short and each write's expression small (tested at this bound)."""
KEY_NAME_SEPARATOR = "#"
PART_TYPES = ("S", "N")
"""A composite key is text, so its attribute parts are strings or numbers (normalised, as DynamoDB compares them)."""
_PART_FIELDS = frozenset({"attribute", "bucket", "date", "format", "type"})
_FORMAT_SAMPLES = (datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(2019, 12, 30, 23, 59, 58, tzinfo=UTC))
"""Dates a format must read back into the same bucket: every field differs, and one is in ISO week 1 of 2020."""


@dataclass(frozen=True)
class GroupPart:
    attribute: str
    bucket: Bucket | None = None
    date: DateForm = DateForm.ISO8601
    """How the attribute holds its date (bucket parts only)."""
    format: str | None = None
    """strptime directives for date strings (``date`` is then STRPTIME)."""
    type: str = "S"
    """The attribute's type (attribute parts only): a value of another type is invalid data."""

    @property
    def name(self) -> str:
        """The attribute this part is written to on the aggregate item."""
        return self.attribute if self.bucket is None else f"{self.attribute}_{self.bucket.value}"

    def to_json(self) -> str | dict[str, str]:
        if self.bucket is None:
            return self.attribute if self.type == "S" else {"attribute": self.attribute, "type": self.type}
        data = {"attribute": self.attribute, "bucket": self.bucket.value}
        if self.format is not None:
            data["format"] = self.format
        elif self.date is not DateForm.ISO8601:
            data["date"] = self.date.value
        return data


def bucket_index_name(part: GroupPart) -> str:
    """``OrderDate_day-by-bucket``: the index ``index_by_bucket`` adds (components/aggregate_table.py) on this
    part, named for what it is keyed by; the local emulator's tables have it too."""
    return part.name + "-by-bucket"


def key_name(parts: Sequence[GroupPart]) -> str:
    """The aggregate key's attribute name: the part names in order, joined by ``#``."""
    return KEY_NAME_SEPARATOR.join(part.name for part in parts)


def parse_group_parts(raw: Any) -> tuple[GroupPart, ...]:
    """Parse a list of group_by parts (see the module doc); ``SpecError`` names the bad part."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes | bytearray) or not raw:
        raise SpecError("group_by must be an attribute name or a non-empty list of parts")
    if len(raw) > MAX_GROUP_PARTS:
        raise SpecError(f"group_by has {len(raw)} parts; at most {MAX_GROUP_PARTS} are allowed")
    parts = tuple(_parse_part(item, f"group_by[{index}]") for index, item in enumerate(raw))
    if len(parts) == 1 and parts[0].bucket is None:
        raise SpecError("group_by[0]: a list of one attribute is that attribute: give it as a string")
    seen: dict[str, int] = {}
    for index, part in enumerate(parts):
        if part.name in seen:
            raise SpecError(f"group_by[{seen[part.name]}] and group_by[{index}] both write the attribute {part.name!r}")
        seen[part.name] = index
    name = key_name(parts)
    if name_bytes(name) > MAX_KEY_NAME_BYTES:
        raise SpecError(
            f"group_by's key attribute {name[:40]!r}... is longer than DynamoDB's {MAX_KEY_NAME_BYTES} bytes "
            "for a key attribute's name: use fewer parts or shorter attribute names"
        )
    return parts


def parse_timezone(raw: Any, parts: Sequence[GroupPart]) -> str | None:
    """The spec's ``timezone``, checked: a zoneinfo name, and only where a part has a time bucket."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise SpecError(f"timezone must be a zone name such as 'Europe/Berlin', got {raw!r}")
    if not any(part.bucket for part in parts):
        raise SpecError("timezone applies to time buckets, and group_by has none")
    problem = zone_problem(raw)
    if problem:
        raise SpecError(f"timezone {problem}")
    return raw


def _parse_part(raw: Any, where: str) -> GroupPart:
    if isinstance(raw, str):
        return GroupPart(attribute_name(raw, where))
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where} must be an attribute name or an object with 'attribute', got {raw!r}")
    unknown = set(raw) - _PART_FIELDS
    if unknown:
        allowed = ", ".join(sorted(_PART_FIELDS))
        raise SpecError(f"{where} has unknown field(s) {', '.join(sorted(unknown))}; a part may have {allowed}")
    attribute = attribute_name(raw.get("attribute"), f"{where}.attribute")
    if raw.get("bucket") is None:
        return _attribute_part(raw, attribute, where)
    bucket = _one_of(Bucket, raw["bucket"], f"{where}.bucket")
    date = _date_form(raw, where)
    part = GroupPart(attribute, bucket, date, raw.get("format"))
    if name_bytes(part.name) > MAX_KEY_NAME_BYTES:
        raise SpecError(f"{where} writes {part.name[:40]!r}..., longer than DynamoDB's {MAX_KEY_NAME_BYTES} bytes")
    if part.format is not None:
        _check_format(part.format, bucket, where)
    return part


def _attribute_part(raw: Mapping[str, Any], attribute: str, where: str) -> GroupPart:
    for field in ("date", "format"):
        if raw.get(field) is not None:
            raise SpecError(
                f"{where}.{field} reads a date for a time bucket, and this part has no bucket: add "
                f"'bucket' (one of {', '.join(repr(b.value) for b in Bucket)}) or remove {field!r}"
            )
    kind = raw.get("type", "S")
    if kind not in PART_TYPES:
        raise SpecError(f"{where}.type must be one of {', '.join(map(repr, PART_TYPES))}, got {kind!r}")
    return GroupPart(attribute, type=kind)


def _date_form(raw: Mapping[str, Any], where: str) -> DateForm:
    if raw.get("type") is not None:
        raise SpecError(f"{where}.type is for attribute parts; a bucket's date form is given by 'date' or 'format'")
    date_format = raw.get("format")
    if date_format is None:
        form: DateForm = _one_of(DateForm, raw.get("date", "iso8601"), f"{where}.date")
        return form
    if not isinstance(date_format, str) or "%" not in date_format:
        raise SpecError(f"{where}.format must be strptime directives such as '%m%d%Y', got {date_format!r}")
    date = raw.get("date", DateForm.STRPTIME.value)
    if date != DateForm.STRPTIME.value:
        raise SpecError(f"{where}.format reads date strings, so it cannot go with date {date!r}")
    return DateForm.STRPTIME


def _check_format(date_format: str, bucket: Bucket, where: str) -> None:
    """A format must read its own output back into the same bucket, or it cannot tell buckets apart."""
    if "Z" in re.findall("%(.)", date_format):
        # strptime's %Z matches only 'UTC', 'GMT' and the running machine's local zone names, and then
        # drops the zone: a value would be read as wall-clock time in the spec's zone, and whether it
        # is valid at all would differ between the Lambda and the operator's machine.
        raise SpecError(
            f"{where}.format {date_format!r} has %Z, which strptime matches against the local machine's zone "
            "names and then ignores: use %z for an offset (+01:00, Z)"
        )
    for sample in _FORMAT_SAMPLES:
        try:
            text = sample.strftime(date_format)
            parsed = datetime.strptime(text, date_format)
        except ValueError as error:
            raise SpecError(f"{where}.format {date_format!r} is not usable strptime directives: {error}") from None
        wall = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
        expected = label(bucket, sample.replace(tzinfo=None))
        if label(bucket, wall) != expected:
            raise SpecError(
                f"{where}.format {date_format!r} cannot tell {bucket.value} buckets apart: it writes "
                f"{expected} as {text!r} and reads that back as {label(bucket, wall)}"
            )


def _one_of(enum: type[Bucket] | type[DateForm], value: Any, field: str) -> Any:
    members = [member for member in enum if member is not DateForm.STRPTIME]
    for member in members:
        if value == member.value:
            return member
    allowed = ", ".join(repr(member.value) for member in members)
    raise SpecError(f"{field} must be one of {allowed}, got {value!r}")
