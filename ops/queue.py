"""Reading an SQS queue the way an operator's command must: nothing is deleted before it is settled.

A command receives every message it can see with a visibility timeout, so a second run (or
another reader) does not take the same message while this one works on it. A message is deleted
only once its outcome is settled; every other one is made visible again when the command ends,
so it stays in the queue (and its depth alarm stays on) for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

RECEIVE_BATCH = 10
"""SQS's largest ReceiveMessage batch."""
MAX_VISIBILITY_SECONDS = 12 * 3600
"""SQS's largest visibility timeout."""


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    sent_at: float | None
    """SentTimestamp in epoch seconds: when the message reached the queue."""


class QueueReader:
    def __init__(self, client: SQSClient, queue_url: str, visibility_timeout: int, wait_seconds: int = 1):
        self._client = client
        self.queue_url = queue_url
        self._visibility = visibility_timeout
        self._wait = wait_seconds

    def in_flight(self) -> int:
        """Messages another reader holds now (approximate, as SQS counts them): read before receiving."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))

    def receive_all(self) -> list[QueueMessage]:
        """Every message visible now, each hidden for the visibility timeout.

        Long polling (one second) asks every SQS server, so an empty answer means the queue has
        nothing more to show, not that the sampled servers had nothing.
        """
        messages: dict[str, QueueMessage] = {}
        while True:
            received = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=RECEIVE_BATCH,
                VisibilityTimeout=self._visibility,
                WaitTimeSeconds=self._wait,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if not received:
                return list(messages.values())
            for raw in received:
                messages[raw["MessageId"]] = _message(raw)

    def keep_hidden(self, message: QueueMessage) -> bool:
        """Restart the message's visibility timeout before working on it; False if it is no longer ours."""
        try:
            self._client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=self._visibility
            )
        except ClientError as error:
            if _not_ours(error):
                return False
            raise
        return True

    def delete(self, messages: Iterable[QueueMessage]) -> None:
        for message in messages:
            self._client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)

    def release(self, messages: Iterable[QueueMessage]) -> None:
        """Make the messages visible again now (they were not settled), rather than at the timeout."""
        for message in messages:
            try:
                self._client.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
                )
            except ClientError as error:
                if not _not_ours(error):
                    raise


NOT_OURS = frozenset({"MessageNotInflight", "ReceiptHandleIsInvalid"})
"""The message is no longer ours to change: its timeout ran out, or another reader received it."""


def _not_ours(error: ClientError) -> bool:
    """SQS over its JSON protocol may name these errors in the old query form
    (``AWS.SimpleQueueService.MessageNotInflight``), so the last dotted part is compared."""
    return str(error.response.get("Error", {}).get("Code", "")).rpartition(".")[2] in NOT_OURS


def _message(raw: MessageTypeDef) -> QueueMessage:
    sent = raw.get("Attributes", {}).get("SentTimestamp")
    return QueueMessage(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw.get("Body", ""),
        sent_at=int(sent) / 1000 if isinstance(sent, str) and sent.isdigit() else None,
    )
