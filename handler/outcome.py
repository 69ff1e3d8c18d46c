"""What writing one aggregate key's plan did: plain data, shared by both stores and the processor."""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import StreamRecord

UNSTORABLE_REASON = "amounts: the aggregate cannot hold this record's change exactly in 38 significant digits"
REFUSED_REASON = "refused: DynamoDB will not apply this record to its aggregate, so no retry can"


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
