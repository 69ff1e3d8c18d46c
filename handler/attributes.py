"""DynamoDB attribute values, decoded only as far as aggregation needs.

A full TypeDeserializer pass over both images costs more than the whole fold; the handler reads
a handful of attributes, so it decodes those and leaves the rest of the image untouched.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import InvalidImage

AttributeValue = dict[str, Any]
"""A typed attribute value as the stream carries it, e.g. ``{"N": "100.25"}``."""

MAX_NUMBER_DIGITS = 38
"""DynamoDB keeps 38 significant digits; anything longer cannot be stored exactly."""


def parse_number(text: Any, attribute: str) -> Decimal:
    """Read an ``N`` value exactly, refusing what DynamoDB could not have stored."""
    if not isinstance(text, str):
        raise InvalidImage(f"attribute {attribute!r} has a non-string N value {text!r}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidImage(f"attribute {attribute!r} is not a number: {text[:40]!r}") from None
    if not number.is_finite():
        raise InvalidImage(f"attribute {attribute!r} is not a finite number: {text[:40]!r}")
    if len(text) > MAX_NUMBER_DIGITS and len(number.as_tuple().digits) > MAX_NUMBER_DIGITS:
        raise InvalidImage(f"attribute {attribute!r} has more than {MAX_NUMBER_DIGITS} significant digits")
    return number


def number_text(number: Decimal) -> str:
    """Fixed-point text for a number, because DynamoDB rejects some exponent forms."""
    return format(number, "f")


def scalar_value(value: AttributeValue, attribute: str) -> str | Decimal | bool | None:
    """The Python value of a scalar attribute, for filters; None for non-scalar types."""
    text = value.get("S")
    if isinstance(text, str):
        return text
    if "N" in value:
        return parse_number(value["N"], attribute)
    if "BOOL" in value:
        return bool(value["BOOL"])
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
        return f"N:{number_text(parse_number(raw, attribute).normalize())}"
    if kind == "B" and isinstance(raw, str):
        return f"B:{raw}"
    raise InvalidImage(f"attribute {attribute!r} must be a string, number or binary to group by, got type {kind}")


def key_value(value: AttributeValue, attribute: str) -> AttributeValue:
    """The value to write as an aggregate table key, normalised like ``key_token``."""
    if "S" in value:
        return value
    kind = next(iter(value))
    if kind == "N":
        return {"N": number_text(parse_number(value["N"], attribute).normalize())}
    return {kind: value[kind]}
