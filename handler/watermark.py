"""Per-source-partition watermarks stored on each aggregate item.

Each aggregate item holds, for every source partition key that fed it recently, one top-level
attribute ``_wm:<type>:<key>`` whose value is ``<sequence, zero-padded to 40 digits>:<epoch s>``.

Why top-level attributes rather than one map: an UpdateItem can SET a top-level attribute whether
or not the item exists yet, so the first write for a new aggregate key is the same single
conditional write as every other. A nested path would need the map to exist first.

Why the padded text compares correctly against a bare padded sequence in a ConditionExpression:
with equal sequences the stored value is the longer string, so ``stored < first`` is false
(already applied); with different sequences the first differing digit decides, as it should.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .spec import INTERNAL_PREFIX

SEQUENCE_DIGITS = 40
STREAM_RETENTION_SECONDS = 24 * 3600
PRUNE_MARGIN_SECONDS = 6 * 3600
"""Slack on top of the stream's 24 h retention for clock skew and 'approximate' creation times."""
PRUNE_AFTER_SECONDS = STREAM_RETENTION_SECONDS + PRUNE_MARGIN_SECONDS

_ATTRIBUTE_PREFIX = f"{INTERNAL_PREFIX}:"


@dataclass(frozen=True, slots=True)
class WatermarkEntry:
    attribute: str
    stored: str
    sequence: int
    created_at: int


def padded(sequence: int) -> str:
    return f"{sequence:0{SEQUENCE_DIGITS}d}"


def attribute_name(partition_token: str) -> str:
    return _ATTRIBUTE_PREFIX + partition_token


def partition_of(attribute: str) -> str | None:
    return attribute[len(_ATTRIBUTE_PREFIX) :] if attribute.startswith(_ATTRIBUTE_PREFIX) else None


def entry_text(sequence: int, created_at: int) -> str:
    return f"{padded(sequence)}:{created_at}"


def read_entries(item: Mapping[str, Any]) -> dict[str, WatermarkEntry]:
    """The watermarks of an aggregate item in DynamoDB's wire format, by partition token."""
    entries: dict[str, WatermarkEntry] = {}
    for attribute, value in item.items():
        partition = partition_of(attribute)
        if partition is None or not isinstance(value, Mapping) or "S" not in value:
            continue
        sequence_text, _, created_text = value["S"].partition(":")
        entries[partition] = WatermarkEntry(
            attribute=attribute,
            stored=value["S"],
            sequence=int(sequence_text),
            created_at=int(created_text or 0),
        )
    return entries


def expired(entries: Mapping[str, WatermarkEntry], now: float, keep: frozenset[str]) -> list[WatermarkEntry]:
    """Entries no stream record can be redelivered for any more: safe to remove.

    A record is readable for 24 h after it is written; an entry whose newest record is older than
    that, plus a margin, can never again meet a record at or below its sequence number.
    """
    horizon = now - PRUNE_AFTER_SECONDS
    return [entry for token, entry in entries.items() if token not in keep and entry.created_at < horizon]
