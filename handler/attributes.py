"""DynamoDB attribute values, decoded only as far as aggregation needs, and the names attributes may have.

A full TypeDeserializer pass over both images costs more than the whole fold; the handler reads
a handful of attributes, so it decodes those and leaves the rest of the image untouched.

The names an aggregation may give attributes (``attribute_name``) are checked here too, once, for
the spec and for its group_by parts alike.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from .errors import InvalidImage, SpecError

AttributeValue = dict[str, Any]
"""A typed attribute value as the stream carries it, e.g. ``{"N": "100.25"}``."""

MAX_NUMBER_DIGITS = 38
"""DynamoDB keeps 38 significant digits; anything longer cannot be stored exactly."""


NUMBER_SYNTAX = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""An optional sign, ASCII digits with an optional decimal point, an optional exponent: a number as
DynamoDB takes and writes one. ``Decimal`` alone also reads other scripts' digits ("\u0663" as 3),
surrounding whitespace, underscores, "Infinity" and "NaN"."""


def parse_number(text: Any, attribute: str) -> Decimal:
    """Read an ``N`` value exactly, refusing what DynamoDB could not have stored."""
    if not isinstance(text, str):
        raise InvalidImage(f"attribute {attribute!r} has a non-string N value {text!r}")
    # ASCII digits with at most one point ("3952.80") are a form NUMBER_SYNTAX matches; testing that
    # with str methods first spares the usual amount the regex, which cost half of this function.
    if not (text.isascii() and text.replace(".", "", 1).isdigit()) and not NUMBER_SYNTAX.fullmatch(text):
        raise InvalidImage(f"attribute {attribute!r} is not a number: {text[:40]!r}")
    try:
        number = Decimal(text)
    except InvalidOperation:  # the syntax lets only exponents Decimal cannot hold this far
        raise InvalidImage(f"attribute {attribute!r} is not a number: {text[:40]!r}") from None
    if len(text) > MAX_NUMBER_DIGITS or "e" in text or "E" in text:  # short plain text always fits
        problem = storage_problem(number)
        if problem:
            raise InvalidImage(f"attribute {attribute!r} {problem}")
    return number


SMALLEST_NUMBER = Decimal("1E-130")
"""The smallest magnitude DynamoDB stores, other than zero."""
LARGEST_NUMBER = Decimal("9.9999999999999999999999999999999999999E+125")
"""The largest magnitude DynamoDB stores."""


def storage_problem(number: Decimal) -> str | None:
    """Why DynamoDB cannot store ``number`` exactly, or None if it can.

    DynamoDB trims leading and trailing zeros, so ``1.50`` has two significant digits and
    ``1`` followed by 40 zeros has one. Comparisons and ``copy_abs`` never round, so no decimal
    context is involved.
    """
    if not number.is_finite():
        return "is not a finite number"
    if number.is_zero():
        return None
    digits = significant_digits(number)
    if digits > MAX_NUMBER_DIGITS:
        return f"has {digits} significant digits; DynamoDB keeps {MAX_NUMBER_DIGITS}"
    if number.copy_abs() > LARGEST_NUMBER:
        return f"is larger than DynamoDB's largest number {LARGEST_NUMBER}"
    if number.copy_abs() < SMALLEST_NUMBER:
        return f"is closer to zero than DynamoDB's smallest number {SMALLEST_NUMBER}"
    return None


def significant_digits(number: Decimal) -> int:
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    return max(1, len(digits))


def number_text(number: Decimal) -> str:
    """Fixed-point text for a number, because DynamoDB rejects some exponent forms."""
    return format(number, "f")


_KEY_DIGITS = Context(prec=MAX_NUMBER_DIGITS)
"""Normalising rounds to its context's precision: the default context's 28 digits would merge numbers
that DynamoDB, keeping 38, holds apart. ``parse_number`` lets no number with more digits through."""


def key_number_text(number: Decimal) -> str:
    """The one text of a number as a key, as DynamoDB compares it: ``1.50``, ``1.5`` and ``15E-1`` are ``1.5``."""
    return number_text(number.normalize(_KEY_DIGITS))


TypedScalar = tuple[str, str | Decimal | bool]
"""A scalar with its DynamoDB type, so that BOOL true never equals N 1 (Python's True == 1)."""

MAX_LATEST_BYTES = 1024
"""A ``latest`` value larger than this is invalid data, so an aggregate item stays a few KB however
wide its source items are: one attribute of 400 KB would otherwise make every later update of
that aggregate fail ("Item size to update has exceeded the maximum allowed size")."""

MAX_KEY_BYTES = 2048
"""DynamoDB's limit on a partition key value: a group value longer than this cannot key an aggregate."""
MAX_SORT_KEY_BYTES = 1024
"""DynamoDB's limit on a sort key value, an index's included: a min/max string longer than this
cannot be ordered by the extremes table's index, so it is invalid data in every mode."""

INTERNAL_PREFIX = "_wm"
"""Attributes of an aggregate item whose names start with this belong to the handler (its position)."""
MAX_KEY_NAME_BYTES = 255
"""DynamoDB's limit on the name of a key attribute (a table's or an index's)."""


def attribute_name(value: Any, field: str) -> str:
    """``value`` as an attribute name the handler may read or write, else ``SpecError`` naming ``field``."""
    if not isinstance(value, str) or not value:
        raise SpecError(f"{field} must be a non-empty attribute name, got {value!r}")
    if name_bytes(value) > MAX_KEY_NAME_BYTES:
        raise SpecError(f"{field} is longer than DynamoDB's {MAX_KEY_NAME_BYTES} bytes for a key attribute's name")
    if value.startswith(INTERNAL_PREFIX):
        raise SpecError(f"{field} {value!r} starts with {INTERNAL_PREFIX!r}, which is reserved for the handler's state")
    return value


def name_bytes(name: str) -> int:
    return len(name.encode("utf-8", "surrogatepass"))


def scalar_value(value: AttributeValue, attribute: str) -> TypedScalar | None:
    """A scalar attribute's type and value, for filters; None for non-scalar types."""
    text = value.get("S")
    if isinstance(text, str):
        return ("S", text)
    if "N" in value:
        return ("N", parse_number(value["N"], attribute))
    if isinstance(value.get("BOOL"), bool):
        return ("BOOL", value["BOOL"])
    return None


def key_token(value: AttributeValue, attribute: str) -> str:
    """A canonical text for a key-like value: equal keys give equal tokens, types never collide.

    Numbers are normalised ("1.0" and "1" are the same DynamoDB key).
    """
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidImage(f"attribute {attribute!r} is not a typed attribute value")
    ((kind, raw),) = value.items()
    if kind == "S" and isinstance(raw, str):
        return f"S:{raw}"
    if kind == "N":
        return f"N:{key_number_text(parse_number(raw, attribute))}"
    if kind == "B" and isinstance(raw, str):
        return f"B:{raw}"
    raise InvalidImage(f"attribute {attribute!r} must be a string, number or binary to group by, got type {kind}")


def key_value(value: AttributeValue, attribute: str) -> AttributeValue:
    """The value to write as an aggregate table key, normalised like ``key_token``.

    Raises ``InvalidImage`` for a value DynamoDB refuses as a key (empty, or over 2048 bytes), so
    such an image is quarantined instead of failing its write on every retry.
    """
    kind = next(iter(value))
    if kind == "N":
        return {"N": key_number_text(parse_number(value["N"], attribute))}
    client = client_value(value)
    raw = client[kind]
    size = len(raw.encode()) if isinstance(raw, str) else len(raw)
    if not 0 < size <= MAX_KEY_BYTES:
        raise InvalidImage(
            f"group_by attribute {attribute!r} has a {size}-byte value: an aggregate key must be 1 to "
            f"{MAX_KEY_BYTES} bytes"
        )
    return client


def wire_size(value: AttributeValue) -> int:
    """The size of an attribute value as the event carries it: DynamoDB's size or a little more."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def client_value(value: AttributeValue) -> AttributeValue:
    """An event's attribute value as boto3's low-level client takes it.

    Lambda's events carry binary as base64 text; the client base64-encodes what it is given, so
    binary is decoded first (at any depth) or DynamoDB would store the base64 text's bytes.
    """
    kind, raw = next(iter(value.items()))
    if kind == "B":
        return {"B": _binary(raw)}
    if kind == "BS":
        return {"BS": [_binary(item) for item in raw]}
    if kind == "M":
        return {"M": {name: client_value(item) for name, item in raw.items()}}
    if kind == "L":
        return {"L": [client_value(item) for item in raw]}
    return value


def _binary(raw: Any) -> bytes:
    if isinstance(raw, bytes):
        return raw
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise InvalidImage(f"binary value is not base64: {str(raw)[:40]!r}") from None
