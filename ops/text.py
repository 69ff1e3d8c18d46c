"""What the operator reads and writes as text: keys, ages and printable data in tables; the operator's
files, read with errors that name the file and line; DynamoDB's number rules; and `--output json`. Pure,
but for printing the JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.markup import escape

from ._lambda_code import EXACT, NUMBER_SYNTAX, number_text, storage_problem
from .errors import OpsError

# --------------------------------------------------------------------------------------------------
# Short texts an operator reads in a table: a record's key, an age, data made printable. Pure.


def key_text(keys: Mapping[str, Any]) -> str:
    """``InvoiceNumber=ABC TransactionId=123`` from a record's ``Keys`` (typed attribute values)."""
    parts = []
    for name, value in keys.items():
        raw = next(iter(value.values())) if isinstance(value, dict) and len(value) == 1 else value
        parts.append(f"{name}={raw}")
    return " ".join(parts) or "(no keys)"


def age_text(seconds: float) -> str:
    """``2d4h``, ``3h12m``, ``5m``, ``40s``: the two largest units, enough to judge an age."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def printable(text: str) -> str:
    """``text`` with control and format characters written as escapes (``\\n``, ``\\x1b``, ``\\u202e``):
    keys, reasons and message bodies are data, and a newline would break a table row, a terminal escape
    or a bidirectional override would change what the operator sees."""
    if text.isprintable():
        return text
    return "".join(
        char if char == " " or unicodedata.category(char)[0] not in "CZ" else repr(char)[1:-1] for char in text
    )


def cell(text: str) -> str:
    """Data as one line of plain text for a rich table or line: ``printable``, and rich's markup escaped."""
    return escape(printable(text))


# --------------------------------------------------------------------------------------------------
# Reading the operator's files (data, spec, stack outputs): errors name the file and the line.
#
# Files are decoded here rather than opened in text mode, because text mode also breaks lines at a
# lone carriage return, and ``str.splitlines`` at U+2028, U+0085 and other characters that are
# valid inside a JSON string: either would split one good row in two and shift every later line
# number. Lines end at "\\n" only; a "\\r" before it is dropped.


class InputFileError(OpsError):
    """A file the command cannot use at all; the message starts with ``path:line:`` where known."""


def read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark is dropped)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x} at column {column})"
        ) from None


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) for every line, split at "\\n" only."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [(number, line.removesuffix("\r")) for number, line in enumerate(lines, start=1)]


# --------------------------------------------------------------------------------------------------
# DynamoDB's number rules, for every number the operator tools read from a user or write: pure.
#
# Python's ``Decimal`` reads far more than DynamoDB does (``1_000``, fullwidth and Arabic-Indic
# digits, ``Infinity``, surrounding whitespace), and it rounds at 28 digits by default. So text is
# matched against DynamoDB's own syntax first, and every number is checked against DynamoDB's
# precision and range before anything is written: a value DynamoDB would refuse fails the whole
# BatchWriteItem it is in, halfway through a file, and a value that would have to be rounded must
# never be stored as if it were exact.


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


# --------------------------------------------------------------------------------------------------
# `--output json`: one JSON document on stdout for scripts; the tables and notes go to stderr, so the
# person who ran it still sees them and nothing is hidden, and stdout parses as it is.
#
# Values read from a table keep DynamoDB's own typed form ({"N": "12.50"}), as `aws dynamodb` prints
# them, and computed numbers are exact decimal text: a JSON number would be read as a float by most
# parsers (jq among them), and money must not be rounded on its way to a script.

OUTPUTS = ("table", "json")


def add_output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        choices=OUTPUTS,
        default="table",
        help="table (default), or json: one JSON document on stdout for scripts; the table and notes then "
        "go to stderr. Numbers are exact decimal text; stored values keep DynamoDB's typed form",
    )


def wants_json(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "table") == "json"


def print_json(document: Mapping[str, Any]) -> None:
    """``document`` on stdout, ASCII only: keys are data, and a terminal escape or a bidirectional
    override in one must reach a script as an escape, never act on the terminal of whoever pipes it."""
    print(json.dumps(document, indent=2, ensure_ascii=True, default=_json_value))


def number_json(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON")
