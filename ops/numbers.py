"""DynamoDB's number rules, for every number the operator tools read from a user or write: pure.

Python's ``Decimal`` reads far more than DynamoDB does (``1_000``, fullwidth and Arabic-Indic
digits, ``Infinity``, surrounding whitespace), and it rounds at 28 digits by default. So text is
matched against DynamoDB's own syntax first, and every number is checked against DynamoDB's
precision and range before anything is written: a value DynamoDB would refuse fails the whole
BatchWriteItem it is in, halfway through a file, and a value that would have to be rounded must
never be stored as if it were exact.
"""

from __future__ import annotations

from decimal import Decimal

from ._lambda_code import EXACT, NUMBER_SYNTAX, number_text, storage_problem
from .errors import OpsError


class NumberError(OpsError):
    """A number DynamoDB would refuse or could not store exactly; the message says which rule."""


def parse_number_text(text: str, name: str) -> Decimal:
    """``text`` as a number, if DynamoDB would accept it as one.

    Raises
    ------
    NumberError
        Naming ``name`` and the value (syntax), or the rule it breaks (precision or range).
    """
    if not NUMBER_SYNTAX.fullmatch(text):
        raise NumberError(f"{name} is not a number: {text[:40]!r}")
    return checked(Decimal(text), name, text)


def checked(number: Decimal, name: str, shown: str | None = None) -> Decimal:
    """``number`` if DynamoDB can store it exactly, else ``NumberError`` naming ``name``."""
    problem = storage_problem(number)
    if problem:
        raise NumberError(f"{name} {shown if shown is not None else _short(number)} {problem}")
    return number


def storable_text(number: Decimal, name: str) -> str:
    """The text to write for ``number``: checked, trailing zeros trimmed as DynamoDB would, fixed-point.

    Raises
    ------
    NumberError
        When DynamoDB cannot store it exactly: it is never rounded to fit.
    """
    checked(number, name)
    if number.is_zero():
        return "0"
    return number_text(number.normalize(EXACT))


def _short(number: Decimal) -> str:
    text = str(number)
    return text if len(text) <= 60 else f"{text[:28]}…{text[-28:]}"
