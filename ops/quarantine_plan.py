"""`quarantine`'s decisions, apart from the queue and the tables: pure.

What the handler did with a quarantined record decides what may be done with it now
(docs/runbook.md, "Redrive", states the rule for operators):

- Reason ``invalid new image``: the record's valid part was applied (its old image's contribution
  taken away, its item's position moved to it) and the item contributes nothing while it is
  invalid. When the source item is written again, that write is its own stream record, whose old
  image (the bad one) counts as nothing and whose new image is added: the fix arrives by itself,
  and the quarantined record is settled by deleting it. Applying it as well would count twice.
  Only when the item is unchanged since and the record is valid under the current spec (the spec
  changed) is there something to apply, and only what adds its new image: the engine applies it if
  its item's position is still below it, and skips it otherwise (a later record). A MODIFY whose
  old image counts under the current spec is kept: if that image was valid when the record was
  quarantined its removal was applied then, if it was invalid it was never added, and the message
  cannot tell which, so applying it could take away what was never there. In ledger mode the
  position is only kept for 25 hours after the item's last record, so a record older than the
  stream's 24 hours is never applied again: with its ledger entry gone it would count twice.
  "Unchanged" is judged by the image, so an item written again that came back to it (put,
  deleted, put again) has two such records in the queue: only the last may be applied; the
  earlier one is kept for reconcile.
- Every other reason (ordering, stale stream, amounts, refused, bad key, a missing image): the
  record was not applied, or may have been; only ``reconcile`` can say what the key should hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from handler.contribution import RecordEffect, image_contribution, record_effect
from handler.errors import EventShapeError, InvalidImage
from handler.outcome import ReasonKind, reason_kind
from handler.position import STREAM_RETENTION_SECONDS, is_sequence_number, position_text, stream_label
from handler.records import creation_seconds, decode_record
from handler.spec import AggregationSpec

from .describe import age_text
from .errors import UnreadableMessage


class MessageError(UnreadableMessage):
    """A quarantine-queue message the handler did not write; the text says why."""


@dataclass(frozen=True)
class QuarantinedRecord:
    """One quarantine message's record: the record as Lambda delivered it, and why it was quarantined."""

    stream_arn: str
    sequence_number: str
    reason: str
    record: Mapping[str, Any]
    truncated: bool

    @property
    def identity(self) -> tuple[str, str]:
        """Redelivery can quarantine a record twice: its copies share this."""
        return (self.stream_arn, self.sequence_number)

    @property
    def position(self) -> str:
        """Stream order, across a stream disabled and enabled again (``handler.position``)."""
        return position_text(stream_label(self.stream_arn), self.sequence_number)

    @property
    def keys(self) -> Mapping[str, Any]:
        return dict(self.body.get("Keys") or {})

    @property
    def body(self) -> Mapping[str, Any]:
        body = self.record.get("dynamodb")
        return body if isinstance(body, dict) else {}

    @property
    def event_name(self) -> str:
        return str(self.record.get("eventName", "?"))

    @property
    def created_at(self) -> float | None:
        return creation_seconds(self.body.get("ApproximateCreationDateTime"))

    @property
    def invalid_image_only(self) -> bool:
        """The reason says only the new image was bad, so the record's valid part was applied."""
        return reason_kind(self.reason) is ReasonKind.INVALID_NEW_IMAGE


def quarantined_record(body: str) -> QuarantinedRecord:
    """The record a quarantine message holds (``handler.quarantine.message_body`` writes them).

    Raises
    ------
    MessageError
        When the body is not such a message.
    """
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        raise MessageError("not JSON") from None
    if not isinstance(document, dict):
        raise MessageError("not a quarantine message (expected a JSON object)")
    arn, sequence, reason, record = (document.get(k) for k in ("eventSourceARN", "sequenceNumber", "reason", "record"))
    if not is_sequence_number(sequence):
        raise MessageError("not a quarantine message: no sequenceNumber")
    if not isinstance(arn, str) or not arn or not isinstance(reason, str) or not isinstance(record, dict):
        raise MessageError("not a quarantine message: eventSourceARN, reason or record missing")
    return QuarantinedRecord(arn, sequence, reason, record, document.get("truncated") is True)


def age_seconds(created_at: float | None, sent_at: float | None, now: float) -> float | None:
    """How old a record is: since its change happened (ApproximateCreationDateTime), else since SQS got it."""
    moment = created_at if created_at is not None else sent_at
    return None if moment is None else max(0.0, now - moment)


class Action(StrEnum):
    SETTLE = "settled: source fixed"
    APPLY = "apply"
    KEEP = "kept"


@dataclass(frozen=True)
class Decision:
    action: Action
    note: str


def needs_source_item(record: QuarantinedRecord) -> bool:
    """Whether the decision reads the current source item (only records whose valid part was applied)."""
    return record.invalid_image_only and bool(record.keys)


def written_again(records: Iterable[QuarantinedRecord]) -> set[tuple[str, str]]:
    """The identities of records whose item has a later record in the queue too.

    Such an item was written again after the record, so it is not "unchanged since" even when it is
    back to the record's image (put, deleted and put again the same): the record must not be applied.
    """
    records = list(records)
    last: dict[str, str] = {}
    for record in records:
        item = _item_of(record)
        last[item] = max(last.get(item, ""), record.position)
    return {record.identity for record in records if record.position < last[_item_of(record)]}


def _item_of(record: QuarantinedRecord) -> str:
    return json.dumps(record.keys, sort_keys=True)


def redrive_decision(
    spec: AggregationSpec,
    record: QuarantinedRecord,
    current: Mapping[str, Any] | None,
    age: float | None,
    source_fixed: bool = False,
    later_record: bool = False,
) -> Decision:
    """What redrive does with a record (see the module docstring); ``current`` is its source item now
    (wire format, None when it no longer exists), read only when ``needs_source_item``;
    ``later_record``: a later record of its item is quarantined too (``written_again``)."""
    if not needs_source_item(record):
        return Decision(Action.KEEP, _reconcile_note(record.reason))
    if record.truncated:
        if not source_fixed:
            return Decision(
                Action.KEEP, "truncated (its images were not kept): fix the source item, then redrive --source-fixed"
            )
        problem = image_problem(spec, current)
        if problem:
            return Decision(Action.KEEP, f"the source item is still invalid: {problem}")
        return Decision(Action.SETTLE, "you fixed the source item: its own stream record carries the fix")
    new_image = record.body.get("NewImage")
    if current is None or not same_image(current, new_image):
        problem = image_problem(spec, current)
        if problem:
            return Decision(Action.KEEP, f"the source item changed but is still invalid: {problem}")
        done = "was deleted" if current is None else "was fixed"
        return Decision(Action.SETTLE, f"the source item {done} since: its own stream record carries that change")
    effect = _effect_now(spec, record)
    if effect is None or effect.quarantine_reason is not None:
        return Decision(Action.KEEP, "the source item is unchanged and still invalid: fix it (its write is applied)")
    if later_record:
        return Decision(
            Action.KEEP,
            "valid under the current spec, but a later record of the item is quarantined too: the item was written "
            "again and came back to this image, so applying both could count it twice; reconcile the key, then drop it",
        )
    if effect.removed is not None:
        return Decision(
            Action.KEEP,
            "valid under the current spec, but its old image counts under it too: if that image was invalid when the "
            "record was quarantined it was never added, and applying the record would take it away; reconcile the "
            "key, then drop it",
        )
    if not spec.single_source and (age is None or age > STREAM_RETENTION_SECONDS):
        shown = "of unknown age" if age is None else f"{age_text(age)} old"
        return Decision(
            Action.KEEP,
            f"valid under the current spec but {shown}: past 24 h its ledger entry may be gone and applying it "
            "could count it twice; reconcile the key, then drop it",
        )
    return Decision(Action.APPLY, "valid under the current spec: applied through the engine")


SUPERSEDED_NOTE = (
    "superseded: its item's position already covers it (its valid part was applied when it was quarantined, or "
    "a later record of the item was), so it was not applied; reconcile the key, then drop it"
)


def _effect_now(spec: AggregationSpec, record: QuarantinedRecord) -> RecordEffect | None:
    """What the record does under the current spec; None when it is not a stream record at all."""
    try:
        return record_effect(spec, decode_record(dict(record.record), 0))
    except EventShapeError:
        return None


def image_problem(spec: AggregationSpec, image: Mapping[str, Any] | None) -> str | None:
    """Why ``image`` cannot contribute under ``spec``, or None (an absent item contributes nothing, validly)."""
    if image is None:
        return None
    try:
        image_contribution(spec, image)
    except InvalidImage as error:
        return str(error)
    return None


def same_image(left: Mapping[str, Any] | None, right: Any) -> bool:
    """Two items in wire format hold the same values (numbers by value, sets in any order)."""
    if not isinstance(right, dict) or left is None:
        return False
    return bool(_canonical({"M": dict(left)}) == _canonical({"M": right}))


def _canonical(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        return value
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return ("N", _number(raw))
    if kind == "NS" and isinstance(raw, list):
        return ("NS", sorted(_number(item) for item in raw))
    if kind in ("SS", "BS") and isinstance(raw, list):
        return (kind, sorted(raw))
    if kind == "M" and isinstance(raw, dict):
        return ("M", {name: _canonical(item) for name, item in raw.items()})
    if kind == "L" and isinstance(raw, list):
        return ("L", [_canonical(item) for item in raw])
    return (kind, raw)


def _number(text: Any) -> Any:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return text


_RECONCILE_NOTES = {
    ReasonKind.ORDERING: "not applied (its item's records came out of order)",
    ReasonKind.STALE_STREAM: "may or may not have been applied (a record of an older stream)",
    ReasonKind.AMOUNTS: "not applied (its change cannot be stored exactly)",
    ReasonKind.REFUSED: "not applied (DynamoDB refused it)",
    ReasonKind.BAD_KEY: "not applied (its keys are unusable)",
    ReasonKind.NOT_A_STREAM_RECORD: "not applied (it is not a DynamoDB stream record)",
    ReasonKind.FOREIGN_STREAM: "not applied (the handler read it from a stream that is not its source table's)",
}


def _reconcile_note(reason: str) -> str:
    kind = reason_kind(reason)
    what = _RECONCILE_NOTES.get(kind, "not applied") if kind else "not applied"
    return f"{what}: reconcile the key, then drop it"
