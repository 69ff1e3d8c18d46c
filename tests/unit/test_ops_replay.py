"""`replay`'s pure parts and its stream reading, with scripted clients."""

import argparse
import json
from collections import Counter

import pytest
from botocore.exceptions import ClientError
from rich.console import Console

from handler.position import foreign_stream
from handler.processor import record_dispositions
from handler.types import Covered, Disposition, KeyOutcome
from ops.errors import CommandError
from ops.queue import QueueMessage, QueueReader
from ops.replay import RangeExpired, RangeUnfinished, ReplayRun, _grouped, _show, read_range
from ops.replay_plan import (
    MAX_BODY_BYTES,
    NAMED_FOR_RECONCILE,
    BatchRange,
    MessageError,
    MessageReport,
    Outcome,
    batch_range,
    in_range,
    named_keys,
    overtaken,
    range_gap,
    with_named_keys,
)
from ops.stream import EMPTY_PAGES, EMPTY_PAGES_IN_RANGE, ITERATOR_RENEWALS
from ops.targets import duration
from ops.text import age_text, key_text
from tests.conftest import EVENTS

ARN = "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders/stream/2026-11-01T09:30:00.125"


def batch(start=10, end=20):
    return BatchRange(ARN, "shardId-1", start, end)


SHARD = "shardId-00000001414562045508-2bac9cd2"
FIRST, LAST = "400000000000000000010", "400000000000000000020"


def body(**info):
    fields = {"shardId": SHARD, "startSequenceNumber": FIRST, "endSequenceNumber": LAST, "streamArn": ARN}
    return json.dumps({"DDBStreamBatchInfo": {**fields, **info}})


def test_the_on_failure_payload_names_the_range():
    parsed = batch_range((EVENTS / "on_failure_destination.json").read_text())
    assert parsed == BatchRange(
        "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders/stream/2026-11-01T09:30:00.125",
        "shardId-00000001761989400125-2bac9cd2",
        800000000000000000001,
        800000000000000000100,
        100,
    )
    assert parsed.region == "eu-west-1"


def test_awss_own_example_payload_names_the_range(shared_events):
    parsed = batch_range((shared_events / "aws-docs__with-ddb_invocation-record.json").read_text())
    assert parsed.start == parsed.end == 800000000003126276362 and parsed.batch_size == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{", "not JSON", id="not-json"),
        pytest.param(json.dumps({"Records": []}), "no DDBStreamBatchInfo", id="stream-batch"),
        pytest.param(
            json.dumps({"KinesisBatchInfo": {"shardId": SHARD, "startSequenceNumber": FIRST, "streamArn": "x"}}),
            "no DDBStreamBatchInfo",
            id="kinesis-on-failure",
        ),
        pytest.param(
            json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:eu-west-1:1:t", "Message": body()}),
            "no DDBStreamBatchInfo",
            id="sns-envelope",
        ),
        pytest.param(
            json.dumps({"version": "1.0", "requestContext": {"condition": "RetriesExhausted"}, "requestPayload": {}}),
            "no DDBStreamBatchInfo",
            id="async-invocation-record",
        ),
        pytest.param(body()[:-7], "not JSON", id="truncated"),
        pytest.param("[" * 100000, "not JSON", id="nested-too-deep"),
        pytest.param(json.dumps({"DDBStreamBatchInfo": [1]}), "no DDBStreamBatchInfo", id="info-not-object"),
        pytest.param(body(streamArn="arn:aws:kinesis:eu-west-1:1:stream/x"), "not a DynamoDB stream ARN", id="kinesis"),
        pytest.param(body(shardId=""), "shardId is missing", id="no-shard"),
        pytest.param(body(startSequenceNumber="1e5"), "startSequenceNumber is not a sequence number", id="not-digits"),
        pytest.param(body(startSequenceNumber="\u00b2"), "startSequenceNumber is not a", id="superscript"),
        pytest.param(body(endSequenceNumber="\uff12\uff10"), "endSequenceNumber is not a", id="fullwidth"),
        pytest.param(body(startSequenceNumber="400000000000000000030"), "is after endSequenceNumber", id="reversed"),
        pytest.param(body(shardId="shardId-1"), "shardId is not a shard ID", id="short-shard-id"),
        pytest.param(body(startSequenceNumber="10"), "startSequenceNumber is not a sequence number", id="20-digits"),
        pytest.param(body(endSequenceNumber="1" * 41), "endSequenceNumber is not a sequence number", id="41-digits"),
    ],
)
def test_a_message_that_names_no_usable_range_says_why(text, message):
    with pytest.raises(MessageError, match=message):
        batch_range(text)


def test_copies_of_a_message_share_an_identity_and_sequence_numbers_compare_as_numbers():
    assert batch_range(body()).identity == batch_range(body(batchSize=11)).identity
    assert batch(9, 100).holds(10) and not batch(9, 100).holds(1000)  # "1000" < "9" as text


def test_a_batch_from_another_tables_stream_is_refused():
    orders = "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders"
    assert foreign_stream(ARN, orders) is None
    assert "not of the source table arn:aws:dynamodb:eu-west-1:111122223333:table/Invoices" in foreign_stream(
        ARN, orders.replace("Orders", "Invoices")
    )
    for elsewhere in (orders.replace("eu-west-1", "us-east-1"), orders.replace("111122223333", "444455556666")):
        assert "from the stream of arn:aws:dynamodb:eu-west-1:111122223333:table/Orders," in foreign_stream(
            ARN, elsewhere
        ), "the same name in another region or account is another table"


def record(sequence):
    return {"dynamodb": {"SequenceNumber": str(sequence), "Keys": {"Id": {"S": str(sequence)}}}, "eventName": "INSERT"}


def test_only_the_records_of_the_range_are_kept():
    assert [r["dynamodb"]["SequenceNumber"] for r in in_range(batch(10, 12), map(record, range(8, 15)))] == [
        "10",
        "11",
        "12",
    ]


@pytest.mark.parametrize(
    ("first", "last", "gap"),
    [
        pytest.param(10, 20, None, id="all-held"),
        pytest.param(10, 25, None, id="read-past-the-end"),
        pytest.param(None, None, "holds no record", id="nothing"),
        pytest.param(12, 20, "begin at 12, after the range's first record 10", id="front-trimmed"),
        pytest.param(10, 15, "only up to 15, short of its last record 20", id="ran-out"),
    ],
)
def test_a_read_that_does_not_cover_the_range_says_what_is_missing(first, last, gap):
    result = range_gap(batch(), first, last)
    assert result is None if gap is None else gap in result


def test_an_outcome_is_settled_only_when_every_record_was_applied_or_quarantined():
    def report(**fields):
        counts = Counter(fields.pop("counts", {}))
        return MessageReport(batch=batch(), dispositions=counts, **fields)

    assert report(counts={Disposition.APPLIED: 2, Disposition.ALREADY_APPLIED: 1}).outcome is Outcome.APPLIED
    assert report(counts={Disposition.ALREADY_APPLIED: 2, Disposition.NO_CHANGE: 1}).outcome is Outcome.SKIPPED
    assert report(counts={Disposition.APPLIED: 1, Disposition.QUARANTINED: 1}).outcome is Outcome.QUARANTINED
    assert report(counts={Disposition.APPLIED: 1, Disposition.FAILED: 1}, expired=True).outcome is Outcome.FAILED
    assert report(expired=True, problem="gone").outcome is Outcome.EXPIRED
    assert report(counts={Disposition.APPLIED: 1}, overtaken={"S:A"}).outcome is Outcome.OVERTAKEN
    assert report(attempted=False).outcome is Outcome.NOT_ATTEMPTED
    assert MessageReport(batch=None, problem="not JSON").outcome is Outcome.UNREADABLE
    settled = {o for o in Outcome if o.settled}
    assert settled == {Outcome.APPLIED, Outcome.SKIPPED, Outcome.QUARANTINED}


def test_a_record_covered_by_a_position_past_the_range_was_overtaken():
    label = "2026-11-01T09:30:00.125/"
    inside = Covered(0, "S:A", label + "20".zfill(40))
    past = Covered(1, "S:B", label + "21".zfill(40))
    newer_stream = Covered(2, "S:C", "2026-12-01T00:00:00.000/" + "1".zfill(40))
    assert overtaken(batch(), [inside, past, newer_stream]) == {"S:B", "S:C"}


def test_each_record_gets_one_disposition():
    moved = KeyOutcome(applied=[1], duplicates=[2, 3])
    other = KeyOutcome(duplicates=[1, 2], applied=[0])
    failing = KeyOutcome(pending=[5])
    result = record_dispositions(7, quarantined=[4], outcomes=[moved, other, failing], failed=[5])
    assert result == [
        Disposition.APPLIED,
        Disposition.APPLIED,  # applied under one key, covered under the other: something landed
        Disposition.ALREADY_APPLIED,
        Disposition.ALREADY_APPLIED,
        Disposition.QUARANTINED,
        Disposition.FAILED,
        Disposition.NO_CHANGE,
    ]


class Shard:
    """A scripted DynamoDB Streams shard: records by sequence number, pages of ``page`` records."""

    def __init__(self, sequences, page=3, closed=False, errors=None):
        self.sequences = sorted(sequences)
        self.page = page
        self.closed = closed
        self.errors = list(errors or [])
        self.iterators = []

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber):
        self._maybe_fail("get_shard_iterator")
        self.iterators.append((ShardIteratorType, SequenceNumber))
        start = int(SequenceNumber) + (1 if ShardIteratorType == "AFTER_SEQUENCE_NUMBER" else 0)
        index = next((i for i, s in enumerate(self.sequences) if s >= start), len(self.sequences))
        return {"ShardIterator": str(index)}

    def get_records(self, ShardIterator, Limit):
        self._maybe_fail("get_records")
        index = int(ShardIterator)
        chunk = self.sequences[index : index + self.page]
        following = index + len(chunk)
        done = self.closed and following >= len(self.sequences)
        response = {"Records": [self._record(s) for s in chunk]}
        if not done:
            response["NextShardIterator"] = str(following)
        return response

    def _maybe_fail(self, operation):
        if self.errors and self.errors[0][0] == operation:
            _, code = self.errors.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": "scripted"}}, operation)

    @staticmethod
    def _record(sequence):
        return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(sequence), "Keys": {"Id": {"S": "x"}}}}


def sequences_read(shard, batch_range_, sleeps=None):
    pages = read_range(shard, batch_range_, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return [int(r["dynamodb"]["SequenceNumber"]) for page in pages for r in page]


def test_reading_starts_at_the_first_record_and_stops_once_past_the_last():
    shard = Shard([5, 10, 13, 17, 20, 22, 30])
    assert sequences_read(shard, batch(10, 20)) == [10, 13, 17, 20]
    assert shard.iterators == [("AT_SEQUENCE_NUMBER", "10")]
    converted = next(read_range(Shard([10, 20]), batch(10, 20)))[0]
    assert converted["eventSourceARN"] == ARN and converted["eventSource"] == "aws:dynamodb"


@pytest.mark.parametrize("code", ["TrimmedDataAccessException", "ResourceNotFoundException"])
def test_a_range_dynamodb_no_longer_holds_is_expired(code):
    with pytest.raises(RangeExpired, match=code):
        sequences_read(Shard([10, 20], errors=[("get_shard_iterator", code)]), batch())
    with pytest.raises(RangeExpired, match=code):
        sequences_read(Shard([10, 11, 12, 13, 20], errors=[("get_records", code)]), batch())


def test_an_expired_iterator_is_taken_again_after_the_last_record_read():
    shard = Shard([10, 11, 12, 13, 20])
    original = shard.get_records
    calls = []

    def get_records(ShardIterator, Limit):
        calls.append(ShardIterator)
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "old"}}, "GetRecords")
        return original(ShardIterator, Limit)

    shard.get_records = get_records
    assert sequences_read(shard, batch()) == [10, 11, 12, 13, 20]
    assert shard.iterators[-1] == ("AFTER_SEQUENCE_NUMBER", "12")


def test_a_closed_shard_that_ends_short_of_the_range_yields_what_it_has_then_expires():
    with pytest.raises(RangeExpired, match="only up to 13"):
        list(read_range(Shard([10, 11, 12, 13], closed=True), batch()))


def test_an_open_shard_with_nothing_more_ends_the_read_after_a_few_empty_pages():
    sleeps = []
    with pytest.raises(RangeExpired, match="holds no record"):
        sequences_read(Shard([1, 2, 3]), batch(100, 120), sleeps)
    assert len(sleeps) == EMPTY_PAGES - 1


def test_other_stream_errors_are_not_mistaken_for_expiry():
    with pytest.raises(ClientError):
        sequences_read(Shard([10, 20], errors=[("get_records", "InternalServerError")]), batch())


def test_ages_and_keys_read_shortly():
    assert [age_text(s) for s in (40, 300, 3 * 3600 + 720, 2 * 86400 + 4 * 3600 + 5)] == ["40s", "5m", "3h12m", "2d4h"]
    assert key_text({"InvoiceNumber": {"S": "ABC"}, "TransactionId": {"N": "7"}}) == "InvoiceNumber=ABC TransactionId=7"


def test_an_age_option_has_a_unit():
    assert duration("7d") == 7 * 86400 and duration("90s") == 90 and duration("12h") == 43200
    assert duration("999999d") == 999999 * 86400
    for text in ("7", "7 days", "-1d", "1.5h", "1w", "", "7d ", "\uff17d"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(text)


@pytest.mark.parametrize("text", ["0d", "0s", "000h"])
def test_an_age_of_zero_is_refused_since_drop_would_take_every_record(text):
    """`drop --older-than 0d` (a slip for 10d) would delete the whole quarantine queue, the only
    record of which keys need reconcile; every record is older than 1s, if that is really meant."""
    with pytest.raises(argparse.ArgumentTypeError, match="above zero"):
        duration(text)


class GappyShard(Shard):
    """An open shard that answers ``empty`` empty pages before the record at index ``at``, as DynamoDB
    may ("it might take multiple calls to get to a portion of the shard that contains stream records")."""

    def __init__(self, sequences, at, empty, page=3):
        super().__init__(sequences, page=page)
        self.at, self.empty_left = at, empty

    def get_records(self, ShardIterator, Limit):
        index = int(ShardIterator)
        if index == self.at and self.empty_left:
            self.empty_left -= 1
            return {"Records": [], "NextShardIterator": ShardIterator}
        page = super().get_records(str(index), Limit)
        if index < self.at < index + len(page["Records"]):  # stop the page at the gap
            page["Records"] = page["Records"][: self.at - index]
            page["NextShardIterator"] = str(self.at)
        return page


def test_empty_pages_inside_a_range_the_shard_began_are_read_through():
    shard = GappyShard([10, 11, 12, 20, 30], at=3, empty=EMPTY_PAGES + 3)
    assert sequences_read(shard, batch(10, 20)) == [10, 11, 12, 20]


def test_an_open_shard_that_stops_short_inside_the_range_is_unfinished_not_expired():
    """The range began, so its last record was written (it reached Lambda) and is not trimmed before
    its first: only empty pages stand between. Calling it expired would send the operator to reconcile
    and drop a message whose records are all still there."""
    sleeps = []
    with pytest.raises(RangeUnfinished, match="empty pages"):
        sequences_read(Shard([10, 11, 12, 13]), batch(10, 20), sleeps)
    assert len(sleeps) == EMPTY_PAGES_IN_RANGE - 1


def test_an_unfinished_read_is_kept_and_stops_the_run_and_is_not_dropped_as_unreplayable():
    report = MessageReport(batch=batch(), dispositions=Counter({Disposition.APPLIED: 3}), unfinished=True)
    assert report.outcome is Outcome.UNFINISHED and not report.outcome.settled


class RefusingVisibility:
    """SQS answering a visibility change for a message that is no longer ours, with ``code``."""

    def __init__(self, code: str) -> None:
        self.code = code

    def change_message_visibility(self, **request):
        raise ClientError({"Error": {"Code": self.code, "Message": "gone"}}, "ChangeMessageVisibility")

    def change_message_visibility_batch(self, Entries, **request):
        return {"Failed": [{"Id": entry["Id"], "Code": self.code, "SenderFault": True} for entry in Entries]}


@pytest.mark.parametrize(
    "code",
    ["MessageNotInflight", "ReceiptHandleIsInvalid", "AWS.SimpleQueueService.MessageNotInflight"],
)
def test_a_message_no_longer_ours_is_recognised_in_either_error_form(code):
    """Over SQS's JSON protocol botocore may report the old query-form code, dotted."""
    reader = QueueReader(RefusingVisibility(code), "https://queue", visibility_timeout=30)
    message = QueueMessage("m1", "handle", "{}", 0.0)
    assert reader.keep_hidden(message) is False
    reader.release([message])  # no error: nothing left to release


def test_another_error_on_a_visibility_change_is_not_swallowed():
    reader = QueueReader(RefusingVisibility("AccessDenied"), "https://queue", visibility_timeout=30)
    with pytest.raises(ClientError):
        reader.keep_hidden(QueueMessage("m1", "handle", "{}", 0.0))
    with pytest.raises(CommandError, match="AccessDenied"):
        reader.release([QueueMessage("m1", "handle", "{}", 0.0)])


def test_a_run_that_lost_messages_to_another_reader_is_not_settled():
    assert ReplayRun().settled and not ReplayRun(lost=1).settled


def test_an_iterator_that_keeps_expiring_is_an_error_not_a_loop():
    """Every new iterator expiring before it returns a page (a clock far off, a broken endpoint) looped forever."""
    shard, calls = Shard([10, 20]), []

    def get_records(ShardIterator, Limit):
        calls.append(ShardIterator)
        assert len(calls) < 50, "the reader loops on ExpiredIteratorException"
        raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "old"}}, "GetRecords")

    shard.get_records = get_records
    with pytest.raises(ClientError, match="ExpiredIteratorException"):
        sequences_read(shard, batch())
    assert len(calls) == ITERATOR_RENEWALS + 1


def test_the_keys_a_run_named_are_written_into_the_message_and_read_back_merged():
    """Issue 17 item 4: what a rerun names for a range is what the run that read it whole named."""
    original = body()
    assert named_keys(original) is None and named_keys("{") is None and named_keys("[]") is None
    marked = with_named_keys(original, {"S:B", "S:A"})
    assert marked is not None and named_keys(marked) == {"S:A", "S:B"}
    assert batch_range(marked) == batch_range(original), "still the same batch for every reader"
    assert named_keys(with_named_keys(marked, {"S:C"}) or "") == {"S:A", "S:B", "S:C"}
    assert named_keys(json.dumps({**json.loads(original), NAMED_FOR_RECONCILE: [1]})) is None
    assert with_named_keys(original, {f"S:{n:0>2000}" for n in range(MAX_BODY_BYTES // 2000)}) is None


def test_copies_of_one_batch_carry_every_key_any_of_them_names():
    """A run stopped between sending the marked message and deleting the one it replaces leaves both."""
    first = with_named_keys(body(), {"S:A"}) or ""
    second = with_named_keys(body(), {"S:B"}) or ""
    (group,) = _grouped(
        [
            QueueMessage("m1", "h1", body(), 0.0),
            QueueMessage("m2", "h2", first, 0.0),
            QueueMessage("m3", "h3", second, 0.0),
        ]
    )
    assert len(group.messages) == 3 and named_keys(group.body) == {"S:A", "S:B"}


def test_the_keys_named_for_reconcile_are_shown_as_a_command_to_paste_and_never_act_on_the_terminal():
    """Keys are data: an item's group value may hold a terminal escape (clearing the screen on the notes) or a
    newline (breaking the note in two); the rest of the note is the reconcile --key command, shell-quoted."""
    report = MessageReport(batch=BatchRange(ARN, SHARD, int(FIRST), int(LAST)), overtaken={"S:a\x1b[2Jb", "S:C#1"})
    report.dispositions[Disposition.APPLIED] = 1
    console = Console(record=True, width=400)
    _show(console, ReplayRun(reports=[report]), from_file=False, dry_run=False)
    text = console.export_text()
    assert "\x1b" not in text and "S:a\\x1b[2Jb" in text, text
    assert "`python -m ops reconcile --key 'S:C#1' --key 'S:a\\x1b[2Jb'`" in text, text
