"""The bucket labels between two labels, for ``query --from --to``: pure.

The operator's side of the labels the handler writes (handler/buckets.py ``label``): reading a label
back to the wall-clock start of its bucket and stepping to the next, so a range is every label a
handler could have written between the two, in order. Kept out of the Lambda package: only the
operator reads ranges.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ._lambda_code import Bucket, label
from .errors import CommandError

_LABEL_PATTERNS = {
    Bucket.MINUTE: re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"),
    Bucket.HOUR: re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2})"),
    Bucket.DAY: re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"),
    Bucket.WEEK: re.compile(r"([0-9]{4})-W([0-9]{2})"),
    Bucket.MONTH: re.compile(r"([0-9]{4})-([0-9]{2})"),
    Bucket.YEAR: re.compile(r"([0-9]{4})"),
}
"""The labels the handler writes, in ASCII digits: ``\\d`` also matches other scripts' digits, which ``int``
reads, so a fullwidth 2026-11 passed as a label no item has."""


def bucket_start(bucket: Bucket, text: str) -> datetime | None:
    """The wall-clock start of the bucket ``text`` labels, or None when it is not such a label."""
    match = _LABEL_PATTERNS[bucket].fullmatch(text)
    if match is None:
        return None
    numbers = [int(group) for group in match.groups()]
    try:
        if bucket is Bucket.WEEK:
            return datetime.fromisocalendar(numbers[0], numbers[1], 1)
        if bucket is Bucket.MONTH:
            return datetime(numbers[0], numbers[1], 1)
        if bucket is Bucket.YEAR:
            return datetime(numbers[0], 1, 1)
        return datetime(*numbers)  # type: ignore[arg-type]  # 3 to 5 fields, each in its place
    except ValueError:
        return None


_STEPS = {
    Bucket.MINUTE: timedelta(minutes=1),
    Bucket.HOUR: timedelta(hours=1),
    Bucket.DAY: timedelta(days=1),
    Bucket.WEEK: timedelta(days=7),
}
"""The fixed-length buckets' length in wall-clock time; months and years are stepped by the calendar."""


def next_bucket(bucket: Bucket, start: datetime) -> datetime:
    """The start of the bucket after the one starting at ``start`` (wall-clock time)."""
    if bucket is Bucket.MONTH:
        return datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    if bucket is Bucket.YEAR:
        return datetime(start.year + 1, 1, 1)
    return start + _STEPS[bucket]


def labels_between(bucket: Bucket, first: str, last: str, limit: int) -> list[str]:
    """Every label from ``first`` to ``last`` inclusive, in order; ``CommandError`` past ``limit`` labels.

    The doubled DST hour is one label and a skipped hour is a label no item can have: both follow
    from labelling wall-clock time.
    """
    start, end = bucket_start(bucket, first), bucket_start(bucket, last)
    if start is None or end is None:
        raise CommandError(f"{first!r} or {last!r} is not a {bucket.value} label")
    labels: list[str] = []
    while start <= end:
        if len(labels) == limit:
            raise CommandError(f"{first} to {last} is more than {limit} {bucket.value} buckets")
        labels.append(label(bucket, start))
        try:
            start = next_bucket(bucket, start)
        except (OverflowError, ValueError):  # past year 9999
            break
    return labels
