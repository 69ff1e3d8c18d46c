"""ops.queue's reader on an in-memory queue: what it holds is released however a command ends.

Ctrl-C is simulated as the replay tests do, by raising KeyboardInterrupt from a call: here the
queue's own calls, at the moment an operator's Ctrl-C would land in them.
"""

from collections import Counter

import pytest
from botocore.exceptions import ClientError

from ops.queue import InFlight, QueueReader


class MemoryQueue:
    """The SQS calls QueueReader makes, on an in-memory queue; ``interrupt`` = (operation, nth call) raises
    KeyboardInterrupt at that call, before it does anything."""

    def __init__(self, count: int, interrupt: tuple[str, int] | None = None, held_elsewhere: int = 0):
        self.visible = {f"m{i}": f"body {i}" for i in range(count)}
        self.hidden: dict[str, str] = {}
        self.handles: dict[str, str] = {}
        self.elsewhere = held_elsewhere
        self.calls: Counter[str] = Counter()
        self.interrupt = interrupt

    def _call(self, operation: str) -> None:
        self.calls[operation] += 1
        if self.interrupt == (operation, self.calls[operation]):
            raise KeyboardInterrupt

    def receive_message(self, MaxNumberOfMessages, **_):
        self._call("ReceiveMessage")
        taken = list(self.visible)[:MaxNumberOfMessages]
        messages = []
        for message_id in taken:
            self.hidden[message_id] = self.visible.pop(message_id)
            handle = f"{message_id}-{self.calls['ReceiveMessage']}"
            self.handles[handle] = message_id
            messages.append({"MessageId": message_id, "ReceiptHandle": handle, "Body": self.hidden[message_id]})
        return {"Messages": messages} if messages else {}

    def change_message_visibility_batch(self, Entries, **_):
        self._call("ChangeMessageVisibilityBatch")
        failed = []
        for entry in Entries:
            message_id = self.handles.get(entry["ReceiptHandle"])
            if message_id not in self.hidden:
                failed.append({"Id": entry["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True})
            elif entry["VisibilityTimeout"] == 0:
                self.visible[message_id] = self.hidden.pop(message_id)
        return {"Failed": failed}

    def delete_message_batch(self, Entries, **_):
        self._call("DeleteMessageBatch")
        for entry in Entries:
            self.hidden.pop(self.handles.get(entry["ReceiptHandle"], ""), None)
        return {"Failed": []}

    def get_queue_attributes(self, **_):
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(len(self.visible)),
                "ApproximateNumberOfMessagesNotVisible": str(len(self.hidden) + self.elsewhere),
            }
        }


def reader(queue: MemoryQueue) -> QueueReader:
    return QueueReader(queue, "https://queue", visibility_timeout=300, wait_seconds=0, name="the quarantine queue")


def test_ctrl_c_between_two_receives_releases_the_messages_already_received():
    queue = MemoryQueue(25, interrupt=("ReceiveMessage", 2))
    with pytest.raises(KeyboardInterrupt), reader(queue).holding() as holder:
        holder.receive_all()
    assert len(queue.visible) == 25 and not queue.hidden


def test_ctrl_c_during_the_release_finishes_the_release_then_interrupts():
    """The first batch's call is interrupted before SQS saw it: it is sent again, and the other two follow."""
    queue = MemoryQueue(25, interrupt=("ChangeMessageVisibilityBatch", 1))
    holder = reader(queue)
    with pytest.raises(KeyboardInterrupt), holder.holding():
        assert len(holder.receive_all()) == 25
    assert len(queue.visible) == 25 and not queue.hidden and not holder.held
    assert queue.calls["ChangeMessageVisibilityBatch"] == 4, "three batches of at most 10, the first sent twice"


def test_deleted_messages_are_not_released_and_the_rest_are():
    queue = MemoryQueue(12)
    holder = reader(queue)
    with holder.holding():
        messages = holder.receive_all()
        assert holder.delete(messages[:11]) == 11
    assert list(queue.visible) == [messages[11].message_id] and not queue.hidden


def test_messages_another_reader_holds_are_refused_before_and_after_receiving_with_how_many_and_when():
    queue = MemoryQueue(3, held_elsewhere=2)
    holder = reader(queue)
    with pytest.raises(InFlight, match=r"the quarantine queue has 2 message\(s\) in flight") as refused:
        holder.refuse_in_flight("quarantine command", 300, "Acting on the rest would be wrong")
    assert "300 s by default" in str(refused.value) and "run again once they are back" in str(refused.value)
    queue.elsewhere = 0
    with holder.holding():
        holder.refuse_in_flight("quarantine command", 300, "x")
        holder.receive_all()
        holder.refuse_in_flight("quarantine command", 300, "x")  # its own three are not another reader's
        queue.elsewhere = 1  # another reader received one meanwhile
        with pytest.raises(InFlight, match=r"1 message\(s\) in flight"):
            holder.refuse_in_flight("quarantine command", 300, "x")
    assert len(queue.visible) == 3


def test_a_message_sent_after_receiving_is_unseen():
    queue = MemoryQueue(2)
    holder = reader(queue)
    with holder.holding():
        holder.receive_all()
        assert holder.unseen() == 0
        queue.visible["late"] = "quarantined since"
        assert holder.unseen() == 1


class ExpiringQueue(MemoryQueue):
    """A timeout shorter than receiving takes: each message is visible again by the next receive."""

    def receive_message(self, MaxNumberOfMessages, **_):
        if self.calls["ReceiveMessage"] > 20:
            raise AssertionError("receive_all never stopped")
        page = super().receive_message(MaxNumberOfMessages=MaxNumberOfMessages)
        self.visible.update(self.hidden)
        self.hidden.clear()
        return page


def test_a_timeout_that_runs_out_while_receiving_does_not_make_receiving_go_on_for_ever():
    """`--visibility-timeout 1`: the first messages came back while later ones were received, for ever."""
    queue = ExpiringQueue(25)
    holder = reader(queue)
    with holder.holding():
        assert len(holder.receive_all()) == 25


class FailingBatch(MemoryQueue):
    """SQS failing one ChangeMessageVisibilityBatch call outright (throttled past the retries)."""

    def change_message_visibility_batch(self, Entries, **_):
        if self.calls["ChangeMessageVisibilityBatch"] == 0:
            self.calls["ChangeMessageVisibilityBatch"] += 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Batch")
        return super().change_message_visibility_batch(Entries=Entries)


def test_a_release_batch_that_fails_does_not_stop_the_other_batches():
    queue = FailingBatch(25)
    holder = reader(queue)
    with pytest.raises(ClientError, match="ThrottlingException"), holder.holding():
        holder.receive_all()
    assert len(queue.visible) == 15 and len(queue.hidden) == 10, "the first batch's ten return at their timeout"


class BusyQueue(MemoryQueue):
    """A queue the handler quarantines into while a command reads it: a new message before every receive, as
    real SQS's long poll returns as soon as one is there. More than 1,000 receives is receiving for ever."""

    def receive_message(self, MaxNumberOfMessages, **_):
        if self.calls["ReceiveMessage"] >= 1000:
            raise AssertionError("receive_all never stopped")
        self.visible[f"late{self.calls['ReceiveMessage']}"] = "quarantined while receiving"
        return super().receive_message(MaxNumberOfMessages=MaxNumberOfMessages)


def test_receiving_a_queue_that_keeps_filling_ends():
    queue = BusyQueue(25)
    holder = reader(queue)
    with holder.holding():
        assert len(holder.receive_all()) >= 25
    assert queue.calls["ReceiveMessage"] == 3 + 3, "the 3 batches the queue held at the start, and 3 more"
    assert not queue.hidden, "nothing is left hidden"
