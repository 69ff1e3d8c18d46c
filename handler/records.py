"""Stream records as read-only views over the raw event, and the event-shape checks.

Every way an invocation payload can be the wrong kind of thing is caught here, once, so the
engine only ever sees DynamoDB stream records with a usable sequence number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .attributes import AttributeValue
from .errors import EventShapeError
from .position import is_sequence_number, position_text, stream_label

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
MILLISECONDS_THRESHOLD = 1e11
"""Creation times above this are in milliseconds (1e11 s is the year 5138)."""
LATEST_CREATION = MILLISECONDS_THRESHOLD * 1000
"""The year 5138 in milliseconds: a larger creation time is no time at all."""


class EventName(StrEnum):
    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


IMAGES_CARRIED = {EventName.INSERT: (False, True), EventName.MODIFY: (True, True), EventName.REMOVE: (True, False)}
"""Which images each event carries: (old, new). EventName is a StrEnum, so raw strings look up too."""


@dataclass(slots=True)
class StreamRecord:
    """One stream record. ``raw`` is kept whole, because a quarantined record is sent as it came."""

    raw: Mapping[str, Any]
    sequence_number: str
    position: str
    """Stream label and sequence number as one comparable string (see ``position``)."""
    event_name: EventName | None
    keys: Mapping[str, AttributeValue]
    old_image: Mapping[str, AttributeValue] | None
    new_image: Mapping[str, AttributeValue] | None
    created_at: float | None
    is_ttl_delete: bool

    @property
    def event_source_arn(self) -> str:
        return str(self.raw.get("eventSourceARN", ""))


def event_records(event: Any) -> list[Any]:
    """The raw records of a stream-trigger batch, once the event is known to be one.

    Raises
    ------
    EventShapeError
        For anything but a ``{"Records": [...]}`` batch (each record is checked by ``decode_record``).
    """
    if not isinstance(event, dict):
        raise EventShapeError(f"expected a DynamoDB stream event object, got {type(event).__name__}")
    _reject_other_shapes(event)
    records = event.get("Records")
    if not isinstance(records, list):
        raise EventShapeError("not a DynamoDB stream event: it has no 'Records' list")
    return records


def _reject_other_shapes(event: Mapping[str, Any]) -> None:
    if "DDBStreamBatchInfo" in event or "requestContext" in event:
        raise EventShapeError(
            "this is an on-failure destination payload (DDBStreamBatchInfo), not a stream batch; "
            "it holds no records: read them from the stream with the shard and sequence range it names"
        )
    if "window" in event or "isFinalInvokeForWindow" in event:
        raise EventShapeError(
            "this is a tumbling-window event; the aggregator keeps its own state and must not be "
            "mapped with TumblingWindowInSeconds"
        )
    if "eventSource" in event and "Records" not in event:
        raise EventShapeError("got a single stream record; Lambda delivers them wrapped in {'Records': [...]}")


def decode_record(record: Any, index: int) -> StreamRecord:
    """Wrap one record; only the fields needed to report or quarantine it must be sound here."""
    # Lambda's events are parsed JSON, so plain dict checks (an ABC check costs ten times more).
    if not isinstance(record, dict):
        raise EventShapeError(f"Records[{index}] is not an object")
    if record.get("eventSource") != "aws:dynamodb":
        raise EventShapeError(f"Records[{index}] has eventSource {record.get('eventSource')!r}, not 'aws:dynamodb'")
    body = record.get("dynamodb")
    if not isinstance(body, dict):
        raise EventShapeError(f"Records[{index}] has no 'dynamodb' object")
    sequence_number = body.get("SequenceNumber")
    if not is_sequence_number(sequence_number):
        where = f"Records[{index}]"
        raise EventShapeError(
            f"{where} has no decimal SequenceNumber: not a DynamoDB Streams trigger record "
            "(a Kinesis Data Streams record from DynamoDB has none)"
        )
    arn = record.get("eventSourceARN")
    if not isinstance(arn, str) or not arn:
        raise EventShapeError(
            f"Records[{index}] has no eventSourceARN: the stream it names orders records across a stream "
            "disabled and enabled again"
        )
    return StreamRecord(
        raw=record,
        sequence_number=sequence_number,
        position=position_text(stream_label(arn), sequence_number),
        event_name=_event_name(record.get("eventName")),
        keys=_image(body.get("Keys")) or {},
        old_image=_image(body.get("OldImage")),
        new_image=_image(body.get("NewImage")),
        created_at=creation_seconds(body.get("ApproximateCreationDateTime")),
        is_ttl_delete=record.get("eventName") == EventName.REMOVE.value
        and _has_ttl_identity(record.get("userIdentity")),
    )


def unreadable_record(raw: Any) -> StreamRecord:
    """A record ``decode_record`` refused, wrapped only to be quarantined as it came (under ``record``
    when it is not even an object). Its sequence number is empty unless it has a usable one: a failure
    reported by an empty one makes Lambda retry the whole batch, which loses nothing."""
    body = raw.get("dynamodb") if isinstance(raw, dict) else None
    sequence = body.get("SequenceNumber") if isinstance(body, dict) else None
    return StreamRecord(
        raw=raw if isinstance(raw, dict) else {"record": raw},
        sequence_number=sequence if is_sequence_number(sequence) else "",
        position="",
        event_name=None,
        keys={},
        old_image=None,
        new_image=None,
        created_at=None,
        is_ttl_delete=False,
    )


_EVENT_NAMES = {name.value: name for name in EventName}


def _event_name(value: Any) -> EventName | None:
    return _EVENT_NAMES.get(value) if isinstance(value, str) else None


def _image(value: Any) -> Mapping[str, AttributeValue] | None:
    return value if isinstance(value, dict) else None


def creation_seconds(value: Any) -> float | None:
    """Epoch seconds from ApproximateCreationDateTime, which some producers give in milliseconds.

    None for anything that is not a time DynamoDB could have written: not a number, a bool, infinite
    (1e400 in JSON), NaN, before 1970 or past ``LATEST_CREATION``. The time only sets when a ledger
    entry expires, and an absent one counts from now, which is always late enough; ``int`` of such a
    value would otherwise raise out of the invocation, or write an expiry DynamoDB refuses.
    """
    kind = type(value)  # a float or an int, as JSON gives them, is known without two isinstance checks
    if kind is not float and kind is not int and (isinstance(value, bool) or not isinstance(value, int | float)):
        return None
    if not 0 <= value <= LATEST_CREATION:  # NaN compares false both ways
        return None
    return value / 1000 if value > MILLISECONDS_THRESHOLD else float(value)


def _has_ttl_identity(identity: Any) -> bool:
    return (
        isinstance(identity, dict)
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL
    )
