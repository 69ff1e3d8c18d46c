"""What writing one aggregate key's plan did: plain data, shared by both stores and the processor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: plain data imports nothing of the package at run time
    from .fold import Delta
    from .records import StreamRecord


class ReasonKind(StrEnum):
    """What a quarantine reason starts with, before its colon. The operator's tools decide by it
    (ops/quarantine_plan.py: which records a redrive may settle or apply), so the handler writes
    every reason through ``reason`` and a rename here moves both sides."""

    INVALID_NEW_IMAGE = "invalid new image"
    """The record's valid part was applied; only its new image is bad, and the item's next write fixes it."""
    BAD_KEY = "bad key"
    ORDERING = "ordering"
    STALE_STREAM = "stale stream"
    AMOUNTS = "amounts"
    REFUSED = "refused"
    FOREIGN_STREAM = "foreign stream"
    """From a stream that is not the source table's: never applied, by the handler or by a redrive."""
    NOT_A_STREAM_RECORD = "not a stream record"
    """No DynamoDB stream record (not an object, another eventSource, no sequence number or stream ARN,
    an unknown eventName): never applied."""


_KINDS = {kind.value: kind for kind in ReasonKind}


def reason(kind: ReasonKind, text: str) -> str:
    """A quarantine reason: its kind, a colon, what is wrong."""
    return f"{kind}: {text}"


def reason_kind(text: str) -> ReasonKind | None:
    """The kind a reason was written with, or None (a reason of another shape: no bad image, say)."""
    head, separator, _ = text.partition(":")
    return _KINDS.get(head) if separator else None


UNSTORABLE_REASON = reason(
    ReasonKind.AMOUNTS, "the aggregate cannot hold this record's change exactly in 38 significant digits"
)
REFUSED_REASON = reason(ReasonKind.REFUSED, "DynamoDB will not apply this record to its aggregate, so no retry can")


@dataclass
class KeyOutcome:
    """What happened to one key's plan; ``error`` set means none of ``pending`` were applied."""

    applied: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    """Records from an older stream than the one already applied for their item (quarantined)."""
    unstorable: dict[int, str] = field(default_factory=dict)
    """Records DynamoDB cannot apply (an amount beyond 38 digits, a key of the wrong type, an item
    past 400 KB), with why: quarantined, since no retry could succeed."""
    pending: list[int] = field(default_factory=list)
    writes: int = 0
    conditional_retries: int = 0
    transaction_conflicts: int = 0
    error: str | None = None

    covered: dict[int, str] = field(default_factory=dict)
    """For each record in ``duplicates``, the stored position that covered it. A position past the
    record's own batch means a later record of its item was applied first (ops.replay reads this)."""

    def skip_applied(self, deltas: Iterable[Delta], stored: Mapping[str, str]) -> None:
        """Record deltas found applied already, with the stored positions that say so."""
        for delta in deltas:
            self.duplicates.append(delta.position)
            self.covered[delta.position] = max(self.covered.get(delta.position, ""), stored[delta.item])

    def fail(self, positions: list[int], reason: str) -> KeyOutcome:
        self.pending.extend(positions)
        self.error = self.error or reason
        return self


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record going to the quarantine queue, whole, with the reason."""

    position: int
    record: StreamRecord
    reason: str


class Disposition(StrEnum):
    """What a batch did with one record: for the operator's tools, which replay records themselves."""

    APPLIED = "applied"
    ALREADY_APPLIED = "already applied"
    """Every change of the record was already covered by its item's stored position."""
    NO_CHANGE = "no change"
    """The record changes no aggregate (filtered out, or no measure's attribute changed)."""
    QUARANTINED = "quarantined"
    FAILED = "failed"
    """Not applied: Lambda would redeliver it."""


@dataclass(frozen=True, slots=True)
class Covered:
    """A record found applied already for one aggregate key, and the stored position that covered it."""

    position: int
    group_token: str
    stored: str


def record_dispositions(
    count: int, quarantined: Iterable[int], outcomes: Iterable[KeyOutcome], failed: Iterable[int]
) -> list[Disposition]:
    """Each record's disposition, by position in the batch.

    A record may touch two keys (it moved its item to another group): it counts as applied if
    either change landed now, and as already applied only if every change it makes was covered.
    A failure outranks everything (the record must come again), then quarantine.
    """
    result = [Disposition.NO_CHANGE] * count
    for outcome in outcomes:
        for position in outcome.duplicates:
            if result[position] is Disposition.NO_CHANGE:
                result[position] = Disposition.ALREADY_APPLIED
        for position in outcome.applied:
            result[position] = Disposition.APPLIED
    for position in quarantined:
        result[position] = Disposition.QUARANTINED
    for position in failed:
        result[position] = Disposition.FAILED
    return result
