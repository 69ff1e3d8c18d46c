"""Sending records with bad data to the quarantine queue, whole, with the reason.

A record only counts as handled once its quarantine message is accepted; if SQS refuses, the
record is reported as a batch item failure and redelivered, so it is never dropped. Redelivery can
quarantine a record twice: consumers de-duplicate on ``eventSourceARN`` + ``sequenceNumber``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .types import Quarantined

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_BATCH_ENTRIES = 10
MAX_MESSAGE_BYTES = 256 * 1024
"""SQS's classic limit per message and per batch; records larger than this are sent without images."""


def message_body(item: Quarantined) -> str:
    """The original record plus the reason; if too large, the keys stay and the images go."""
    body = {
        "reason": item.reason,
        "sequenceNumber": item.record.sequence_number,
        "eventSourceARN": item.record.event_source_arn,
        "record": item.record.raw,
        "truncated": False,
    }
    text = json.dumps(body, default=str)
    if len(text.encode()) <= MAX_MESSAGE_BYTES:
        return text
    slim: dict[str, Any] = {k: v for k, v in item.record.raw.items() if k != "dynamodb"}
    stream_part = item.record.raw.get("dynamodb")  # not an object in a record that is no stream record
    slim["dynamodb"] = (
        {k: v for k, v in stream_part.items() if k not in ("OldImage", "NewImage")}
        if isinstance(stream_part, dict)
        else None
    )
    return json.dumps({**body, "record": slim, "truncated": True}, default=str)


class QuarantineQueue:
    def __init__(self, client: SQSClient, queue_url: str):
        self._client = client
        self._queue_url = queue_url

    def send(self, items: Sequence[Quarantined]) -> dict[int, str]:
        """Send all items; returns the positions that could not be sent, with why."""
        failed: dict[int, str] = {}
        for chunk in _chunks(items):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(item.position), "MessageBody": message_body(item)} for item in chunk
            ]
            try:
                response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as error:
                failed.update((item.position, f"quarantine send failed: {error}") for item in chunk)
                continue
            for failure in response.get("Failed", []):
                failed[int(failure["Id"])] = (
                    f"quarantine send failed: {failure.get('Code')} {failure.get('Message', '')}"
                )
        return failed


def _chunks(items: Sequence[Quarantined]) -> Iterator[list[Quarantined]]:
    chunk: list[Quarantined] = []
    size = 0
    for item in items:
        item_size = len(message_body(item).encode())
        if chunk and (len(chunk) == SQS_BATCH_ENTRIES or size + item_size > MAX_MESSAGE_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk
