"""The handler's plain data: what passes from one step of a record's path to the next.

A record is decoded (``records``), its effect on the aggregates found (``contribution``: a
``RecordEffect`` of ``ImageContribution``\\s), cut into one ``Delta`` per aggregate key and planned
(``planner``: a ``KeyPlan`` per key), written (the stores: a ``KeyOutcome`` per key), and reported
(``processor``: a ``BatchResult``). Each step imports these types from here and none from another
step, so the steps import in one direction (tests/repo/test_import_graph.py), as Powertools keeps
its batch ``types`` apart from its engine. This module imports nothing of the package when it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:  # annotations only: plain data imports nothing of the package at run time
    from .attributes import AttributeValue
    from .records import StreamRecord
    from .telemetry import BatchCounters


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


@dataclass(slots=True)
class ImageContribution:
    """What one valid, filter-passing image contributes to its group."""

    group_token: str
    group_value: AttributeValue
    numbers: Mapping[str, Decimal]
    """sum and count measures (and avg's two) by stored name; count contributes 1."""
    latest: Mapping[str, AttributeValue]
    extremes: Mapping[str, AttributeValue]
    """min/max measures by name: the image's value, as the aggregate or the extremes table stores it."""


@dataclass(slots=True)
class RecordEffect:
    """A record's contributions, plus why it must be quarantined, if it must."""

    item_token: str | None
    """The source item's identity (partition and sort key); None when the keys are unusable."""
    removed: ImageContribution | None = None
    added: ImageContribution | None = None
    quarantine_reason: str | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(slots=True)
class Delta:
    """One record's effect on one aggregate key."""

    position: int
    """Index of the record in its batch."""
    stream_position: str
    item: str
    """The source item's token (``position.item_token``)."""
    created_at: int
    numbers: Mapping[str, Decimal]
    latest: Mapping[str, AttributeValue]
    extremes: Mapping[str, AttributeValue | None] = field(default_factory=dict)
    """min/max measures by name: the item's value after this record for this key, or None when the
    item no longer contributes to it. A measure whose value the record leaves as it was is absent."""


@dataclass
class KeyPlan:
    """Everything a batch does to one aggregate key, in stream order."""

    group_token: str
    group_value: AttributeValue
    deltas: list[Delta] = field(default_factory=list)


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


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    """What the Lambda returns (``ReportBatchItemFailures``): the earliest record not applied, or none."""

    batchItemFailures: list[BatchItemFailure]


@dataclass(frozen=True)
class BatchResult:
    """What one batch did, returned by ``BatchProcessor.process``: nothing of it stays on the processor,
    so one processor can serve two callers (or threads) and each reads its own batch's result."""

    response: PartialBatchResponse
    """What the Lambda returns."""
    dispositions: list[Disposition]
    """What the batch did with each record, by position: for the operator's replay."""
    covered: list[Covered]
    """The records found applied already, per key, with the positions that covered them."""
    first_error: str | None
    """Why the earliest failed record failed (the summary line's ``firstError``); None when none failed."""
    counters: BatchCounters
    """The batch's counters, as its summary line reports them."""
