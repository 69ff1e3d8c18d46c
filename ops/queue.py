"""Reading an SQS queue the way an operator's command must: nothing is deleted before it is settled,
nothing is left hidden when the command ends, and nothing is acted on while another reader holds part of it.

A command receives every message it can see with a visibility timeout, so a second run (or
another reader) does not take the same message while this one works on it. The reader remembers
every message it holds from the moment SQS hands it over, so ``holding()`` makes every message
not deleted visible again however the command ends: an error, Ctrl-C in the middle of receiving,
or Ctrl-C while it is releasing (the release finishes first, then the interrupt goes on).

A run killed without its cleanup (SIGKILL, a machine gone) leaves its messages hidden until their
timeout. Another command seeing only the rest would report a partial queue (``list``: "0 records")
or act on it (redrive applying a record whose newer copy it cannot see), so commands refuse to
start while any message is in flight (``refuse_in_flight``), and check again once they hold theirs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import CommandError
from .targets import whole_number

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

RECEIVE_BATCH = 10
"""SQS's largest ReceiveMessage batch."""
BATCH_ENTRIES = 10
"""SQS's largest DeleteMessageBatch and ChangeMessageVisibilityBatch."""
MAX_VISIBILITY_SECONDS = 12 * 3600
"""SQS's largest visibility timeout."""
REPLAY_VISIBILITY_SECONDS = 900
"""replay's default --visibility-timeout: reading a range back and applying it can take minutes."""
QUARANTINE_VISIBILITY_SECONDS = 300
"""quarantine's default --visibility-timeout."""
INTERRUPTED_TRIES = 3
"""How often one release batch is tried again when Ctrl-C lands in it (making a message visible twice is harmless)."""


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    sent_at: float | None
    """SentTimestamp in epoch seconds: when the message reached the queue."""


class InFlight(CommandError):
    """Another reader holds messages of the queue: what this command would see is not the whole queue."""


EXTRA_RECEIVE_ROUNDS = 3
"""Receives beyond the batches the queue's count asked for: its count is approximate."""
RECEIVE_WAIT_SECONDS = 1
"""The long poll that ends receiving: on SQS an empty short poll may only mean that the servers it sampled
had nothing, an empty long poll that the queue has nothing more to show."""


class QueueReader:
    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        visibility_timeout: int,
        wait_seconds: int | None = None,
        name: str = "queue",
    ):
        self._client = client
        self.queue_url = queue_url
        self.name = name
        """How the operator knows the queue: ``the quarantine queue``."""
        self._visibility = visibility_timeout
        self._wait = RECEIVE_WAIT_SECONDS if wait_seconds is None else wait_seconds
        self._held: dict[str, QueueMessage] = {}
        """Received, neither deleted nor released nor lost to another reader: what ``release()`` makes visible."""

    @property
    def held(self) -> list[QueueMessage]:
        return list(self._held.values())

    def _counts(self) -> tuple[int, int]:
        """(visible, in flight), approximate as SQS counts them."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes.get("ApproximateNumberOfMessages", 0)),
            int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    def in_flight(self) -> int:
        """Messages hidden now that this reader does not hold: another reader's."""
        return max(0, self._counts()[1] - len(self._held))

    def unseen(self) -> int:
        """Messages in the queue this reader does not hold (arrived since it received, or another reader's)."""
        visible, hidden = self._counts()
        return max(0, visible + hidden - len(self._held))

    def refuse_in_flight(self, command: str, default_timeout: int, risk: str) -> None:
        """Raise ``InFlight`` when another reader holds messages: before receiving, and again after.

        ``risk`` says what acting on the rest would do; the message says how many and when they return.
        """
        count = self.in_flight()
        if count:
            raise InFlight(
                f"{self.name} has {count} message(s) in flight: another {command} is running, or one stopped without "
                f"releasing them (killed, or its session dropped); they are visible again at the latest its "
                f"--visibility-timeout ({default_timeout} s by default) after it received them. {risk}: run again "
                "once they are back"
            )

    def receive_all(self) -> list[QueueMessage]:
        """Every message visible now, each hidden for the visibility timeout (and held, for ``release``).

        Long polling (one second) asks every SQS server, so an empty answer means the queue has
        nothing more to show, not that the sampled servers had nothing. An answer holding only messages
        already received ends it too: with a timeout shorter than receiving takes (``--visibility-timeout
        1``) they come back, and receiving went on for ever.

        The rounds are bounded by what the queue held when receiving began (``EXTRA_RECEIVE_ROUNDS``
        over its batches): a long poll answers as soon as one message is there, so a queue the handler
        keeps quarantining into never gave an empty answer, and the command held every message for
        ever. What arrives past the bound stays visible, not held; callers that act on the whole queue
        see it through ``unseen()``.
        """
        received_here: dict[str, QueueMessage] = {}
        rounds = -(-self._counts()[0] // RECEIVE_BATCH) + EXTRA_RECEIVE_ROUNDS
        for _ in range(rounds):
            received = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=RECEIVE_BATCH,
                VisibilityTimeout=self._visibility,
                WaitTimeSeconds=self._wait,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            news = [raw for raw in received if raw["MessageId"] not in received_here]
            for raw in received:  # one received again keeps its newest receipt handle
                message = _message(raw)
                self._held[message.message_id] = message
                received_here[message.message_id] = message
            if not news:  # nothing left, or only messages back from a timeout shorter than receiving takes
                break
        return list(received_here.values())

    def keep_hidden(self, message: QueueMessage) -> bool:
        """Restart the message's visibility timeout before working on it; False if it is no longer ours."""
        try:
            self._client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=self._visibility
            )
        except ClientError as error:
            if _not_ours(error):
                self._held.pop(message.message_id, None)
                return False
            raise
        return True

    def keep_all_hidden(self, messages: Iterable[QueueMessage]) -> set[str]:
        """Restart the timeout of every message (batched); the ids of those no longer ours."""
        lost: set[str] = set()
        for chunk in _chunks(list(messages)):
            failed = self._visibility_batch(chunk, self._visibility)
            lost |= {message_id for message_id, code in failed.items() if _not_ours_code(code)}
            _raise_other(failed, "ChangeMessageVisibilityBatch")
        for message_id in lost:
            self._held.pop(message_id, None)
        return lost

    def delete(self, messages: Iterable[QueueMessage]) -> int:
        """Delete the messages (batched); returns how many SQS deleted. One it refuses stays held, so it is
        released; any refusal but "no longer ours" is raised once every batch was tried."""
        deleted, refused = 0, {}
        for chunk in _chunks(list(messages)):
            entries: Any = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)]
            response = self._client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            failed = {chunk[int(f["Id"])].message_id: str(f.get("Code", "")) for f in response.get("Failed", [])}
            for message in chunk:
                if message.message_id not in failed:
                    deleted += 1
                if message.message_id not in failed or _not_ours_code(failed[message.message_id]):
                    self._held.pop(message.message_id, None)
            refused.update(failed)
        _raise_other(refused, "DeleteMessageBatch")
        return deleted

    def replace(self, messages: Sequence[QueueMessage], body: str) -> int:
        """Send ``body`` as a new message, then delete ``messages`` (SQS cannot change a message); returns how
        many were deleted. Stopped between the two, both stay: the caller's reader must take them as copies."""
        self._client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        return self.delete(messages)

    def release(self, messages: Iterable[QueueMessage] | None = None) -> None:
        """Make the messages (by default every one still held) visible again now, rather than at the timeout.

        Ctrl-C during the release does not stop it: the batch it hit is sent again and the rest follow,
        then the interrupt is raised. Messages no longer ours are skipped; an error or any other refusal
        is raised once every batch was tried.
        """
        pending = self.held if messages is None else list(messages)
        interrupted: KeyboardInterrupt | None = None
        failed: ClientError | BotoCoreError | None = None
        refused: dict[str, str] = {}
        for chunk in _chunks(pending):
            for _ in range(INTERRUPTED_TRIES):
                try:
                    refused.update(self._visibility_batch(chunk, 0))
                    break
                except KeyboardInterrupt as interrupt:
                    interrupted = interrupt
                except (ClientError, BotoCoreError) as error:  # one batch refused: the others are still released
                    failed = failed or error
                    break
            for message in chunk:
                self._held.pop(message.message_id, None)
        if interrupted is not None:
            raise interrupted
        if failed is not None:
            raise failed
        _raise_other(refused, "ChangeMessageVisibilityBatch")

    @contextmanager
    def holding(self) -> Iterator[QueueReader]:
        """Release every message still held when the block ends, however it ends."""
        try:
            yield self
        finally:
            self.release()

    def _visibility_batch(self, chunk: Sequence[QueueMessage], timeout: int) -> dict[str, str]:
        """ChangeMessageVisibilityBatch; the failed entries' message ids and codes."""
        entries: Any = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": timeout} for i, m in enumerate(chunk)
        ]
        response = self._client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        return {chunk[int(f["Id"])].message_id: str(f.get("Code", "")) for f in response.get("Failed", [])}


NOT_OURS = frozenset({"MessageNotInflight", "ReceiptHandleIsInvalid"})
"""The message is no longer ours to change: its timeout ran out, or another reader received it."""


def _not_ours(error: ClientError) -> bool:
    return _not_ours_code(str(error.response.get("Error", {}).get("Code", "")))


def _not_ours_code(code: str) -> bool:
    """SQS over its JSON protocol may name these errors in the old query form
    (``AWS.SimpleQueueService.MessageNotInflight``), so the last dotted part is compared."""
    return code.rpartition(".")[2] in NOT_OURS


def _raise_other(failed: dict[str, str], operation: str) -> None:
    other = sorted({code for code in failed.values() if not _not_ours_code(code)})
    if other:
        count = sum(1 for code in failed.values() if not _not_ours_code(code))
        raise CommandError(f"SQS refused {operation} for {count} message(s): {', '.join(other)}")


def _chunks(messages: Sequence[QueueMessage]) -> Iterator[Sequence[QueueMessage]]:
    for start in range(0, len(messages), BATCH_ENTRIES):
        yield messages[start : start + BATCH_ENTRIES]


def _message(raw: MessageTypeDef) -> QueueMessage:
    sent = raw.get("Attributes", {}).get("SentTimestamp")
    return QueueMessage(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw.get("Body", ""),
        sent_at=int(sent) / 1000 if isinstance(sent, str) and sent.isascii() and sent.isdigit() else None,
    )


def add_visibility_argument(parser: argparse.ArgumentParser, default: int) -> None:
    """``--visibility-timeout`` of the commands that read a queue (replay, quarantine)."""
    parser.add_argument(
        "--visibility-timeout",
        type=whole_number(1, MAX_VISIBILITY_SECONDS),
        default=default,
        help="seconds each message stays hidden from other readers while this run works on it (default %(default)s)",
    )
