"""Time buckets: which minute, hour, day, ISO week, month or year a date falls in, as a label: pure.

A label is the date's **wall-clock time in the aggregation's time zone** (UTC unless the spec
names one), cut to the bucket: ``2026-11-28T14:05``, ``2026-11-28T14``, ``2026-11-28``,
``2026-W48``, ``2026-11``, ``2026``. Weeks are ISO weeks, labelled with the ISO year, so
2027-01-01 (a Friday) is ``2026-W53``. Every label is fixed-width text whose order is the order of
time, so a range of buckets is a range of labels.

Daylight saving time, the one choice here: labels carry no offset. When clocks go back, the local
hour that occurs twice (02:00 to 03:00 in Europe/Berlin on the last Sunday of October) is **one**
hour bucket (and 60 minute buckets) holding both real hours; when clocks go forward, the skipped
hour has no bucket, because no instant falls in it. Day, week, month and year buckets are
unaffected: every instant belongs to exactly one local day. The alternative, an offset in minute
and hour labels (``2026-10-25T02+02:00``), would split the doubled hour but make every label
longer and unlike what readers query for; the merge is documented instead. Each instant still
gets exactly one label, the same on every run, so totals stay exact per label.

How a value becomes a wall-clock time (``wall_time``):

- ``iso8601``: an ``S`` of the form ``_ISO_DATE`` allows, read by ``datetime.fromisoformat``: a
  date (``2026-11-28``, ``20261128``, ``2026-W48-6``), optionally ``T`` (or ``t`` or a space) and a
  time of hours 00-23 with minutes, seconds and a fraction of a second (any digits, truncated to
  microseconds), extended or basic, and an offset ``Z``, ``±hh``, ``±hhmm`` or ``±hh:mm``. With an
  offset it is converted to the zone; without one it already *is* wall-clock time in the zone and
  is labelled as written (even a time inside a skipped hour). The form is fixed here rather than
  left to ``fromisoformat``, whose reading differs between Python versions.
- ``strptime``: an ``S`` read with the part's ``format``; with ``%z`` converted, else as written.
- ``epoch_seconds`` / ``epoch_millis``: an ``N``, decimals and negative values allowed (before
  1970), floored to the whole second; from -62135510400 to 253402214400 seconds (0001-01-02 to
  9999-12-31 UTC, which keeps every zone's local date inside Python's years 1 to 9999).

Anything else (the wrong type, text that is not a date, a date outside years 1 to 9999 in the
zone) raises ``InvalidImage`` with the reason: the record is quarantined like any other bad data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Context
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

from .attributes import AttributeValue, parse_number
from .errors import InvalidImage


class Bucket(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class DateForm(StrEnum):
    """How a bucketed attribute holds its date."""

    ISO8601 = "iso8601"
    EPOCH_SECONDS = "epoch_seconds"
    EPOCH_MILLIS = "epoch_millis"
    STRPTIME = "strptime"
    """An ``S`` read with the part's ``format``; implied by giving one."""


EARLIEST_EPOCH_SECONDS = -62135510400
"""0001-01-02T00:00:00Z: a day after Python's first date, so that no zone's local date precedes it."""
LATEST_EPOCH_SECONDS = 253402214400
"""9999-12-31T00:00:00Z: a day before Python's last date, for the same reason."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCALING = Context(prec=200)
"""Wide enough that turning milliseconds (at most 38 digits) into seconds never rounds."""


_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}|[0-9]{4}-W[0-9]{2}(?:-[1-7])?|[0-9]{4}W[0-9]{2}[1-7]?"
_HOUR, _SIXTY, _FRACTION = r"(?:[01][0-9]|2[0-3])", r"[0-5][0-9]", r"(?:[.,][0-9]+)?"
_TIME = rf"{_HOUR}(?::{_SIXTY}(?::{_SIXTY}{_FRACTION})?|{_SIXTY}(?:{_SIXTY}{_FRACTION})?)?"
_OFFSET = rf"Z|[+-]{_HOUR}(?::?{_SIXTY})?"
_ISO_DATE = re.compile(rf"(?:{_DATE})(?:[Tt ]{_TIME}(?:{_OFFSET})?)?")
"""The ISO dates read (see the module doc), in ASCII digits. ``datetime.fromisoformat`` alone decides
differently by Python version (3.11 reads +01:99 as +02:39 and T10.5 as 10:00:00.5; 3.14 reads T24:00
as the next day), and the Lambda's Python need not be the operator's, which reconcile runs on."""

REGION_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
"""IANA's geographic areas: a zone the aggregation may name is ``UTC`` or ``<area>/<location>``."""
_REGION_ZONE = re.compile(rf"(?:{'|'.join(REGION_AREAS)})(?:/[A-Z][A-Za-z_-]*)+")
"""Each location part as IANA spells them (tz's Theory: ASCII letters, '-' and '_'; never a digit),
capitalised, so ``europe/berlin`` is not read as Europe/Berlin where a file system ignores case."""

BUNDLED_ZONES = Path(__file__).resolve().parent / "zoneinfo"
"""Where the component puts the named zone's file in the Lambda package (``zone_file``): AWS does not
document that the Lambda runtime carries the IANA database, so the handler takes the zone the
deployer validated, and reads it the same as the operator's tools there."""


def region_zone_problem(name: str) -> str | None:
    """Why ``name`` is not a zone an aggregation may name, by its spelling alone, or None.

    Only ``UTC`` and IANA region names (``Europe/Berlin``, ``America/Argentina/Salta``) are taken,
    so that one name means one set of rules on the deploying machine, in the Lambda (which reads
    the file the component bundled from the deployer's database) and on the operator's machine:

    - ``localtime``, ``posixrules`` and ``Factory`` are files of a machine's database, not zones:
      ``localtime`` is the deploying machine's own zone, and the operator tools would read theirs;
    - ``posix/...`` and ``right/...`` are copies some systems install; ``right/`` counts leap
      seconds in its transition times, which Python does not, so each change of offset lands
      about half a minute late;
    - ``Etc/...``: ``Etc/GMT+5`` is five hours *behind* UTC (POSIX signs), so a label read as
      written is ten hours off; the rest (``Etc/UTC``, ``Etc/Zulu``) are spellings of ``UTC``;
    - legacy names outside the areas (``US/Eastern``, ``GB``, ``EST5EDT``, ``CET``) are old
      aliases, some kept only for compatibility and some with rules unlike the region's;
    - any other path (``/etc/localtime``, ``../x``) names a file, not a zone.

    Whether the zone exists is then the database's answer (``zone``); this is the same everywhere.
    """
    if name == "UTC" or _REGION_ZONE.fullmatch(name):
        return None
    if name.startswith("Etc/") or name in ("GMT", "UCT", "Universal", "Zulu", "Greenwich"):
        hint = "write 'UTC' for UTC; Etc/GMT+N zones are N hours behind UTC, so name the region instead"
    else:
        hint = f"'UTC' or a region name such as 'Europe/Berlin' (areas: {', '.join(REGION_AREAS)})"
    return f"{name[:60]!r} is not an IANA region name: {hint}"


@cache
def zone(name: str | None) -> ZoneInfo | None:
    """The zone named (None for UTC, which needs no database): the bundled file first, else this
    Python's database. Raises ``ZoneInfoNotFoundError``, or ``ValueError`` for a name that is not
    a region name (``region_zone_problem``): no caller resolves ``localtime`` or a path."""
    if name is None:
        return None
    problem = region_zone_problem(name)
    if problem:  # before the bundled file is looked up: an absolute name joined to a directory is that path
        raise ValueError(problem)
    bundled = BUNDLED_ZONES / name
    if bundled.is_file():
        with bundled.open("rb") as file:
            return ZoneInfo.from_file(file, key=name)
    return ZoneInfo(name)


def zone_file(name: str) -> Path | None:
    """The TZif file this Python reads for zone ``name`` (its TZPATH, then the tzdata package), to bundle."""
    zone(name)  # refuses malformed names (absolute paths, '..') before any path is built from them
    for directory in TZPATH:
        candidate = Path(directory) / name
        if candidate.is_file():
            return candidate
    try:
        resource = resources.files("tzdata.zoneinfo").joinpath(name)
    except ModuleNotFoundError:
        return None
    return Path(str(resource)) if resource.is_file() else None


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not a usable zone, or None."""
    problem = region_zone_problem(name)
    if problem:
        return problem
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a zone in this Python's zoneinfo database (IANA names such as 'Europe/Berlin')"
    return None


def wall_time(
    value: AttributeValue, form: DateForm, date_format: str | None, tz: ZoneInfo | None, attribute: str
) -> datetime:
    """The naive wall-clock time in ``tz`` (UTC when None) that ``value`` stands for; see the module doc."""
    if form is DateForm.EPOCH_SECONDS or form is DateForm.EPOCH_MILLIS:
        return _epoch_wall_time(value, form, tz, attribute)
    text = value.get("S") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(text, str):
        kind = next(iter(value), "?") if isinstance(value, dict) else "?"
        raise InvalidImage(f"attribute {attribute!r} must be a date string (S) for its time bucket, got type {kind}")
    try:
        if date_format:
            parsed = datetime.strptime(text, date_format)
        elif _ISO_DATE.fullmatch(text):
            parsed = datetime.fromisoformat(text)
        else:
            raise ValueError(text)
    except ValueError:
        wanted = f"a date in the format {date_format!r}" if date_format else "an ISO-8601 date"
        raise InvalidImage(f"attribute {attribute!r} is not {wanted}: {text[:40]!r}") from None
    if parsed.tzinfo is None:
        return parsed
    try:
        return parsed.astimezone(tz or UTC).replace(tzinfo=None)
    except OverflowError:
        raise InvalidImage(
            f"attribute {attribute!r} is outside years 1 to 9999 in the time zone: {text[:40]!r}"
        ) from None


def _epoch_wall_time(value: AttributeValue, form: DateForm, tz: ZoneInfo | None, attribute: str) -> datetime:
    raw = value.get("N") if isinstance(value, dict) and len(value) == 1 else None
    if raw is None:
        kind = next(iter(value), "?") if isinstance(value, dict) else "?"
        raise InvalidImage(
            f"attribute {attribute!r} must be a number (N) of {form.value} for its bucket, got type {kind}"
        )
    number = parse_number(raw, attribute)
    seconds = _SCALING.scaleb(number, -3) if form is DateForm.EPOCH_MILLIS else number
    if not EARLIEST_EPOCH_SECONDS <= seconds <= LATEST_EPOCH_SECONDS:
        raise InvalidImage(
            f"attribute {attribute!r} is {raw[:40]} {form.value}, outside {EARLIEST_EPOCH_SECONDS} to "
            f"{LATEST_EPOCH_SECONDS} seconds (years 1 to 9999)"
        )
    whole = int(seconds.to_integral_value(rounding=ROUND_FLOOR))
    return (_EPOCH + timedelta(seconds=whole)).astimezone(tz or UTC).replace(tzinfo=None)


def label(bucket: Bucket, wall: datetime) -> str:
    """The label of the bucket holding ``wall`` (fixed width: years are always four digits)."""
    date = f"{wall.year:04d}-{wall.month:02d}-{wall.day:02d}"
    if bucket is Bucket.MINUTE:
        return f"{date}T{wall.hour:02d}:{wall.minute:02d}"
    if bucket is Bucket.HOUR:
        return f"{date}T{wall.hour:02d}"
    if bucket is Bucket.DAY:
        return date
    if bucket is Bucket.WEEK:
        iso_year, week, _ = wall.isocalendar()
        return f"{iso_year:04d}-W{week:02d}"
    if bucket is Bucket.MONTH:
        return f"{wall.year:04d}-{wall.month:02d}"
    return f"{wall.year:04d}"
