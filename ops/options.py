"""Validating every command-line option at parse time: argparse names the option in the error.

A bad value caught here costs the operator one line; caught later it was a thread pool refusing
``max_workers=0``, 20,000 scan segments hanging for minutes, or an emulator started on port 0.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from ._lambda_code import TABLE_ARN, TABLE_NAME

MAX_SECONDS = 7 * 24 * 3600
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
_DURATION = re.compile(r"([0-9]{1,6})([smhd])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_QUEUE_URL = re.compile(r"https?://[^\s/]+(?::[0-9]+)?/[0-9A-Za-z]+/[A-Za-z0-9_\-]{1,80}")


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, in plain ASCII digits."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}, got {text!r}")
        return int(text)

    return parse


def seconds(text: str) -> float:
    value = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0 and at most {MAX_SECONDS}, got {text!r}")
    return value


def endpoint_url(text: str) -> str:
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number, a malformed IPv6 host
        valid = False
    if not valid or not text.isascii() or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text[:80]!r}")
    return text.rstrip("/")


def is_table_name(value: object) -> bool:
    return isinstance(value, str) and bool(TABLE_NAME.fullmatch(value) or TABLE_ARN.fullmatch(value))


def table_name(text: str) -> str:
    if not is_table_name(text):
        raise argparse.ArgumentTypeError(
            f"must be a table name (3 to 255 of A-Z a-z 0-9 _ . -) or a table ARN, got {text[:80]!r}"
        )
    return text


def duration(text: str) -> float:
    """An age such as ``7d``, ``12h``, ``30m`` or ``90s``, in seconds."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"must be a whole number with a unit s, m, h or d (e.g. 7d), got {text!r}")
    if int(match[1]) == 0:  # "older than 0d" is every record: a slip for 10d would empty the queue
        raise argparse.ArgumentTypeError(f"must be above zero (every record is older than 1s), got {text!r}")
    return float(int(match[1]) * _DURATION_UNITS[match[2]])


def is_queue_url(value: object) -> bool:
    return isinstance(value, str) and bool(_QUEUE_URL.fullmatch(value))


def queue_url(text: str) -> str:
    if not is_queue_url(text):
        raise argparse.ArgumentTypeError(
            f"must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>), got {text[:80]!r}"
        )
    return text
