"""Turning GetRecords output into the records Lambda delivers: pure.

boto3 decodes binary attributes to bytes and creation times to datetimes; the Lambda event
carries base64 text and epoch seconds, plus the stream ARN and region on every record.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef


def lambda_record(record: RecordTypeDef, stream_arn: str, region: str) -> dict[str, Any]:
    body: dict[str, Any] = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    for image in ("Keys", "NewImage", "OldImage"):
        if image in body:
            body[image] = wire_image(body[image])
    converted = {
        "eventID": record.get("eventID", ""),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:
        converted["userIdentity"] = record["userIdentity"]
    return converted


def sequence_of(record: Mapping[str, Any]) -> int:
    """A record's sequence number as an integer: they are decimal strings, and only their numeric order means
    anything."""
    return int(record["dynamodb"]["SequenceNumber"])


def wire_image(image: dict[str, Any]) -> dict[str, Any]:
    """An item as boto3 returns it (bytes for binary) in the event's wire format (base64 text)."""
    return {name: _wire_value(value) for name, value in image.items()}


def _wire_value(value: dict[str, Any]) -> dict[str, Any]:
    kind, raw = next(iter(value.items()))
    if kind == "B":
        return {"B": _b64(raw)}
    if kind == "BS":
        return {"BS": [_b64(item) for item in raw]}
    if kind == "M":
        return {"M": {name: _wire_value(item) for name, item in raw.items()}}
    if kind == "L":
        return {"L": [_wire_value(item) for item in raw]}
    return {kind: raw}


def _b64(raw: bytes | str) -> str:
    return raw if isinstance(raw, str) else base64.b64encode(raw).decode()
