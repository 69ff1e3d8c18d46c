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
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ._lambda_code import (
    EXPIRY_MARGIN_SECONDS,
    STREAM_RETENTION_SECONDS,
    AggregationSpec,
    EventShapeError,
    HandlerError,
    InvalidImage,
    ReasonKind,
    RecordEffect,
    creation_seconds,
    decode_record,
    image_contribution,
    is_sequence_number,
    key_number_text,
    key_token,
    key_value,
    position_text,
    reason_kind,
    record_effect,
    record_item_token,
    stream_label,
)
from .errors import UnreadableMessage
from .text import age_text, key_text


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
        """The record's ``Keys``; empty when they are not an object (a record quarantined for its keys)."""
        keys = self.body.get("Keys")
        return dict(keys) if isinstance(keys, dict) else {}

    @property
    def key_text(self) -> str:
        """The keys as the operator reads them; ``Keys`` that are not an object are shown as they came."""
        keys = self.body.get("Keys")
        return key_text(keys) if isinstance(keys, dict) else f"Keys {json.dumps(keys)[:200]}"

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


def aggregate_keys(spec: AggregationSpec, record: QuarantinedRecord) -> list[str]:
    """The aggregates the record's item counts toward under ``spec``, as ``reconcile --key`` takes them: what an
    operator told to reconcile the key reconciles (the row's own key is the source item's, which they fix).

    From each image the record carries: its contribution's key when it counts; when it is invalid (it passed the
    filter, and a measure or part is bad) and group_by is one attribute, that attribute's key, if it has one. A
    record without images (truncated) names the key its ``Keys`` hold when group_by is one of them. Empty when
    nothing names one: the handler's rules decide, never a guess.
    """
    keys: list[str] = []
    carried = [record.body.get(name) for name in ("OldImage", "NewImage")]
    images: list[Mapping[str, Any]] = [image for image in carried if isinstance(image, dict)] or [record.keys]
    for image in images:
        try:
            contribution = image_contribution(spec, image)
            token = contribution.group_token if contribution is not None else None
        except HandlerError:
            token = _single_key(spec, image)
        if token is not None and token not in keys:
            keys.append(token)
    return keys


def _single_key(spec: AggregationSpec, image: Mapping[str, Any]) -> str | None:
    if spec.group_parts or spec.group_by not in image:
        return None
    try:
        return key_token(image[spec.group_by], spec.group_by)
    except HandlerError:
        return None


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
    if _depth(document) > MAX_DEPTH:
        raise MessageError(f"not a quarantine message: nested deeper than {MAX_DEPTH} levels")
    arn, sequence, reason, record = (document.get(k) for k in ("eventSourceARN", "sequenceNumber", "reason", "record"))
    if not is_sequence_number(sequence):
        raise MessageError("not a quarantine message: no sequenceNumber")
    if not isinstance(arn, str) or not arn or not isinstance(reason, str) or not isinstance(record, dict):
        raise MessageError("not a quarantine message: eventSourceARN, reason or record missing")
    truncated = document.get("truncated", False)
    if not isinstance(truncated, bool):
        raise MessageError("not a quarantine message: truncated is not true or false")
    try:
        decoded = decode_record(record, 0)
    except EventShapeError:
        raise MessageError("not a quarantine message: its record is not a DynamoDB stream record") from None
    if decoded.event_source_arn != arn or decoded.sequence_number != sequence:
        raise MessageError("not a quarantine message: its record's eventSourceARN or SequenceNumber differs")
    quarantined = QuarantinedRecord(arn, sequence, reason, record, truncated)
    if quarantined.invalid_image_only:
        _check_applied_part(quarantined, decoded.new_image)
    return quarantined


def _check_applied_part(record: QuarantinedRecord, new_image: Any) -> None:
    """A record quarantined for its new image had its valid part applied, so the handler had read its keys
    (redrive reads its item by them) and, unless truncated, its new image (redrive compares it)."""
    keys = record.body.get("Keys")
    if not isinstance(keys, dict) or not keys:
        raise MessageError("not a quarantine message: a record quarantined for its new image has no Keys")
    try:
        for name, value in keys.items():
            key_token(value, name)
            key_value(value, name)
    except InvalidImage as error:
        raise MessageError(
            f"not a quarantine message: a record quarantined for its new image has bad Keys: {error}"
        ) from None
    if not record.truncated and new_image is None:
        raise MessageError("not a quarantine message: a record quarantined for its new image has no NewImage")


MAX_DEPTH = 100
"""JSON nesting a quarantine message can have: DynamoDB nests attribute values 32 levels deep (two JSON
levels each, the type and the map or list) inside the message, its record and an image. Deeper is not a
message the handler wrote, and the code that reads one recurses."""


def _depth(document: Any) -> int:
    """How deeply ``document`` nests, counted without recursion (json.loads allows deeper than Python recurses)."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        pending.extend((child, depth + 1) for child in children)
    return deepest


def age_seconds(created_at: float | None, sent_at: float | None, now: float) -> float | None:
    """How old a record is: since its change happened (ApproximateCreationDateTime), else since SQS got it.

    A creation time that cannot be the change's (not finite, before 1970, or later than SQS got the
    message, beyond the margin for skew) is not used: the handler quarantines records for such times.
    """
    latest = (sent_at if sent_at is not None else now) + EXPIRY_MARGIN_SECONDS
    usable = created_at is not None and math.isfinite(created_at) and 0 <= created_at <= latest
    moment = created_at if usable else sent_at
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


def copies(first: QuarantinedRecord, second: QuarantinedRecord) -> bool:
    """Whether two messages of one identity hold copies of one record: the same keys and event (their reasons,
    and whether their images were kept, may differ)."""
    same_keys = first.body.get("Keys") == second.body.get("Keys")
    return first.identity == second.identity and same_keys and first.event_name == second.event_name


def key_problem(spec: AggregationSpec, key_types: Mapping[str, str], record: QuarantinedRecord) -> str | None:
    """Why the record's keys cannot be used to read its item from the source table (whose key attributes
    have ``key_types``, by name), or None: the names must be the spec's keys and the types the table's."""
    try:
        record_item_token(spec, record.keys)
    except InvalidImage as error:
        return str(error)
    for name, value in record.keys.items():
        kind = next(iter(value), None) if isinstance(value, dict) else None
        if kind != key_types.get(name):
            return f"key {name!r} is of type {kind}, the table's is {key_types.get(name)}"
    return None


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
    """The item's identity by its keys' tokens (``1.0`` and ``1`` are one number key), else their text."""
    try:
        return json.dumps(sorted((name, key_token(value, name)) for name, value in record.keys.items()))
    except InvalidImage:
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
    """A value in a form that compares by value; anything a message could hold (it is not trusted) compares
    without raising, unequal to what DynamoDB holds when it is not something DynamoDB could hold."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return ("N", _number(raw))
    if kind == "NS" and isinstance(raw, list):
        return ("NS", sorted(_number(item) for item in raw))
    if kind in ("SS", "BS") and isinstance(raw, list):
        return (kind, sorted(raw, key=_order))
    if kind == "M" and isinstance(raw, dict):
        return ("M", {name: _canonical(item) for name, item in raw.items()})
    if kind == "L" and isinstance(raw, list):
        return ("L", [_canonical(item) for item in raw])
    return (kind, raw)


def _number(text: Any) -> str:
    """A number's one text (``5.0`` and ``5`` alike); what is not a finite number stays apart from every number."""
    if not isinstance(text, str):
        return f"not a number: {_order(text)}"
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return f"not a number: {text}"
    return key_number_text(number) if number.is_finite() else f"not a number: {text}"


def _order(value: Any) -> str:
    """A total order over JSON values, for sorting a set whose members may be of mixed types."""
    return f"{type(value).__name__}:{json.dumps(value, sort_keys=True)}"


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
