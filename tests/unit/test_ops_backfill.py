"""`backfill`'s stream read, with a scripted DynamoDB Streams client: every shard, every page, or nothing written.

The scripted stream behaves as DynamoDB documents (API reference, DynamoDB Streams): DescribeStream
lists at most 100 shards and names the last one in ``LastEvaluatedShardId`` when there are more;
GetRecords may answer empty pages before records; a closed shard ends with no ``NextShardIterator``,
an open one answers empty pages at its current end; trimmed records raise
``TrimmedDataAccessException`` and a shard that is gone ``ResourceNotFoundException``.
"""

from __future__ import annotations

import io
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from rich.console import Console

import ops.__main__ as cli
from handler.position import item_token
from handler.spec import parse_spec
from ops.backfill import CLOCK_MARGIN_SECONDS, SHARD_READERS, BackfillError, first_records, run_backfill
from ops.recount import BACKFILL_MARKER
from ops.stream import EMPTY_PAGES, EMPTY_PAGES_IN_RANGE
from ops.targets import Target
from tests.conftest import INVOICE_SPEC, invoice_image

STREAM = "arn:aws:dynamodb:eu-west-1:111122223333:table/Src/stream/2026-12-04T10:00:00.000"
SOURCE, AGGREGATE, LEDGER = "Src", "Agg", "Ledger"
DESCRIBE_PAGE = 100
"""DescribeStream's largest page (API reference, DescribeStream: Limit)."""


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    """The reader pauses on empty pages to leave the mapping its share of the shard; a script needs none."""
    monkeypatch.setattr("ops.stream.EMPTY_PAGE_PAUSE_SECONDS", 0)


@dataclass
class ScriptedShard:
    """One shard: ``empty_before`` empty pages, then its records two to a page; then the end (closed) or
    empty pages forever (open). ``error`` (operation, code) is raised on that operation instead."""

    shard_id: str
    records: list[dict[str, Any]]
    empty_before: int = 0
    closed: bool = True
    error: tuple[str, str] | None = None
    parent: str | None = None

    def pages(self) -> list[list[dict[str, Any]]]:
        return [[]] * self.empty_before + [self.records[i : i + 2] for i in range(0, len(self.records), 2)]

    def description(self) -> dict[str, Any]:
        sequences = {"StartingSequenceNumber": "100"}
        if self.closed:
            sequences["EndingSequenceNumber"] = "999999"
        shard = {"ShardId": self.shard_id, "SequenceNumberRange": sequences}
        if self.parent:
            shard["ParentShardId"] = self.parent
        return shard


@dataclass
class ScriptedStream:
    """A DynamoDB Streams client serving ``shards`` as DynamoDB does."""

    shards: list[ScriptedShard]
    created: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=1))
    status: str = "ENABLED"
    calls: list[str] = field(default_factory=list)

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        ids = [shard.shard_id for shard in self.shards]
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = self.shards[start : start + DESCRIBE_PAGE]
        description: dict[str, Any] = {
            "StreamArn": StreamArn,
            "CreationRequestDateTime": self.created,
            "StreamStatus": self.status,
            "Shards": [shard.description() for shard in page],
        }
        if start + DESCRIBE_PAGE < len(self.shards):
            description["LastEvaluatedShardId"] = page[-1].shard_id
        return {"StreamDescription": description}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, **more: Any) -> dict[str, Any]:
        assert ShardIteratorType == "TRIM_HORIZON" and not more  # backfill reads every shard from its start
        self._maybe_fail(ShardId, "get_shard_iterator")
        return {"ShardIterator": f"{ShardId}#0"}

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        shard_id, _, index = ShardIterator.partition("#")
        self.calls.append(shard_id)
        shard = self._maybe_fail(shard_id, "get_records")
        pages = shard.pages()
        position = int(index)
        response: dict[str, Any] = {"Records": pages[position] if position < len(pages) else []}
        if not shard.closed or position + 1 < len(pages):
            response["NextShardIterator"] = f"{shard_id}#{min(position + 1, len(pages))}"
        return response

    def _maybe_fail(self, shard_id: str, operation: str) -> ScriptedShard:
        shard = next(shard for shard in self.shards if shard.shard_id == shard_id)
        if shard.error and shard.error[0] == operation:
            raise ClientError({"Error": {"Code": shard.error[1], "Message": "scripted"}}, operation)
        return shard


@dataclass
class ScriptedDynamoDB:
    """The source and aggregate tables as backfill sees them: their key schemas, a scan, the writes it makes."""

    items: list[dict[str, Any]]
    writes: list[dict[str, Any]] = field(default_factory=list)
    fail_at: tuple[int, BaseException] | None = None
    """(n, error): the write after the first n raises ``error`` instead."""
    calls: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)

    def describe_table(self, TableName: str) -> dict[str, Any]:
        keys = [("InvoiceNumber", "HASH")] + ([("TransactionId", "RANGE")] if TableName == SOURCE else [])
        return {
            "Table": {
                "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in keys],
                "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
                "LatestStreamArn": STREAM,
            }
        }

    def scan(self, **request: Any) -> dict[str, Any]:
        return {"Items": self.items if request["Segment"] == 0 else []}

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        if self.fail_at and self.calls == self.fail_at[0] + 1:
            raise self.fail_at[1]
        self.writes.append(request)
        return {}

    def get_item(self, **request: Any) -> dict[str, Any]:
        """The aggregate's backfill marker: set on the keys already written."""
        done = {write["Key"]["InvoiceNumber"]["S"] for write in self.writes}
        return {"Item": {BACKFILL_MARKER: {"S": "t"}}} if request["Key"]["InvoiceNumber"]["S"] in done else {}

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:
        """An extremes-table entry, on condition that its item's ledger entry is absent (the script holds none):
        the Put is kept apart from the aggregate writes."""
        check, put = TransactItems
        assert (
            check["ConditionCheck"]["TableName"] == LEDGER
            and "attribute_not_exists" in check["ConditionCheck"]["ConditionExpression"]
        ), "each entry is conditional on the item's ledger entry being absent"
        self.entries.append(put["Put"])
        return {}


@dataclass(frozen=True)
class ScriptedTarget(Target):
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: Any, config: Any = None) -> Any:
        return self.clients[service]


def target(stream: ScriptedStream, dynamodb: ScriptedDynamoDB) -> ScriptedTarget:
    clients = {"dynamodb": dynamodb, "dynamodbstreams": stream}
    return ScriptedTarget(
        None, SOURCE, AGGREGATE, parse_spec(INVOICE_SPEC), ledger_table=LEDGER, extremes_table="Ext", clients=clients
    )


def record(sequence: int, name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """A record as boto3 returns it from GetRecords (its creation time a datetime)."""
    image = new or old or {}
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": datetime.now(UTC),
        "Keys": {key: image[key] for key in ("InvoiceNumber", "TransactionId")},
        "SequenceNumber": str(sequence),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        body["OldImage"] = old
    if new is not None:
        body["NewImage"] = new
    return {"eventName": name, "dynamodb": body}


def shard_id(number: int) -> str:
    return f"shardId-00000001764842400000-{number:08x}"


def changed_items(shards: int) -> tuple[list[ScriptedShard], list[dict[str, Any]]]:
    """``shards`` shards, shard n holding item n (invoice n % 10): changed from Amount 1 at enablement to 100,
    then to 200. The scan sees 200; backfill must add 1 per item. Closed shards answer more empty pages
    before their records than an open one may (EMPTY_PAGES) and fewer than EMPTY_PAGES_IN_RANGE."""
    scripted, scanned = [], []
    for number in range(shards):
        invoice, transaction = f"INV{number % 10}", f"T{number}"
        was, then, now = (invoice_image(invoice, transaction, amount) for amount in ("1", "100", "200"))
        records = [record(1000 + 2 * number, "MODIFY", was, then), record(1001 + 2 * number, "MODIFY", then, now)]
        closed = number % 3 != 0
        empty = (EMPTY_PAGES + 10) if closed else EMPTY_PAGES - 1
        scripted.append(ScriptedShard(shard_id(number), records, empty_before=empty, closed=closed))
        scanned.append(now)
    return scripted, scanned


def added(request: dict[str, Any]) -> dict[str, Decimal]:
    """What an UpdateItem ADDs: {attribute: number}."""
    adds = request["UpdateExpression"].partition("ADD ")[2]
    pairs = re.findall(r"(#\w+) (:\w+)", adds)
    names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
    return {names[name]: Decimal(values[value]["N"]) for name, value in pairs}


def written_totals(dynamodb: ScriptedDynamoDB) -> dict[str, dict[str, Decimal]]:
    return {write["Key"]["InvoiceNumber"]["S"]: added(write) for write in dynamodb.writes}


def test_backfill_reads_every_shard_of_every_page_through_empty_pages():
    """150 shards (two DescribeStream pages), empty pages before every shard's records: the state at
    enablement of all 150 items comes from their first records. The old reader saw the first 100 shards
    only and stopped each at its first empty page, so it took the scanned Amount 200 for every item."""
    shards, scanned = changed_items(150)
    stream, dynamodb = ScriptedStream(shards), ScriptedDynamoDB(scanned)
    first = first_records(stream, STREAM, parse_spec(INVOICE_SPEC), time.time()).first
    assert len(first) == 150
    assert {shard.shard_id for shard in shards} <= set(stream.calls)
    run_backfill(target(stream, dynamodb), Console(file=None, quiet=True))
    assert written_totals(dynamodb) == {
        f"INV{n}": {"Total": Decimal(15), "TransactionCount": Decimal(15)} for n in range(10)
    }


def test_an_items_first_record_is_its_earliest_across_a_parent_and_a_child_shard():
    """The child shard is listed first; the parent (closed) holds the item's first record after empty pages."""
    was, then, now = (invoice_image("A", "1", amount) for amount in ("5", "6", "7"))
    parent = ScriptedShard(shard_id(1), [record(10, "MODIFY", was, then)], empty_before=EMPTY_PAGES + 1)
    child = ScriptedShard(shard_id(2), [record(20, "MODIFY", then, now)], closed=False, parent=shard_id(1))
    inserted = ScriptedShard(shard_id(3), [record(30, "INSERT", None, invoice_image("A", "2", "50"))], closed=False)
    removed = ScriptedShard(shard_id(4), [record(40, "REMOVE", invoice_image("A", "3", "9"), None)])
    stream = ScriptedStream([child, parent, inserted, removed])
    dynamodb = ScriptedDynamoDB([now, invoice_image("A", "2", "50")])
    run_backfill(target(stream, dynamodb), Console(file=None, quiet=True))
    assert written_totals(dynamodb) == {"A": {"Total": Decimal(5 + 9), "TransactionCount": Decimal(2)}}
    # items 1 and 3 counted at enablement; 1 still does (its records set its entry, so only where absent), 3 not
    (entry,) = dynamodb.entries
    assert entry["Item"]["i"] == {"S": item_token("S:A", "S:1")} and entry["Item"]["n"] == {"N": "7"}
    assert entry["ConditionExpression"] == "attribute_not_exists(#i)"


def test_the_entries_of_a_key_already_backfilled_are_left_to_the_handler():
    """A key marked by an earlier run: its items' entries are the handler's since (one removed meanwhile would
    otherwise come back as a stray entry)."""
    was, now = invoice_image("A", "1", "5"), invoice_image("A", "1", "6")
    stream = ScriptedStream([ScriptedShard(shard_id(1), [record(10, "MODIFY", was, now)])])
    dynamodb = ScriptedDynamoDB([now])
    run_backfill(target(stream, dynamodb), Console(file=None, quiet=True))
    run_backfill(target(stream, dynamodb), Console(file=None, quiet=True))
    assert len(dynamodb.entries) == 1  # (the script plays neither condition: the marker read is what left it)


def failing_stream(failure: ScriptedShard) -> ScriptedStream:
    shards, _ = changed_items(120)
    shards[110] = failure  # on DescribeStream's second page, after 110 shards read
    return ScriptedStream(shards)


def stalled() -> ScriptedShard:
    """A closed shard answering more empty pages than the reader reads through before its end."""
    was, now = invoice_image("INV0", "X", "1"), invoice_image("INV0", "X", "2")
    return ScriptedShard(shard_id(999), [record(5, "MODIFY", was, now)], empty_before=EMPTY_PAGES_IN_RANGE + 1)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        pytest.param(stalled(), "answered 100 empty pages in a row before its end", id="stalled-closed-shard"),
        pytest.param(
            ScriptedShard(shard_id(998), [], error=("get_records", "TrimmedDataAccessException")),
            "TrimmedDataAccessException",
            id="trimmed",
        ),
        pytest.param(
            ScriptedShard(shard_id(997), [], error=("get_shard_iterator", "ResourceNotFoundException")),
            "ResourceNotFoundException",
            id="shard-gone",
        ),
        pytest.param(
            ScriptedShard(shard_id(996), [], error=("get_records", "InternalServerError")),
            f"backfill wrote nothing: reading shard {shard_id(996)}: InternalServerError",
            id="aws-error",
        ),
    ],
)
def test_a_stream_read_that_cannot_be_complete_writes_nothing(failure, message):
    """Backfill used to stop a shard at its first empty page and write the scanned images under its marker,
    which then kept a rerun from correcting them. Now the whole read comes first: it raises, nothing is
    written, no marker is set, and the CLI says so in one line."""
    dynamodb = ScriptedDynamoDB(changed_items(120)[1])
    with pytest.raises(BackfillError, match=message):
        run_backfill(target(failing_stream(failure), dynamodb), Console(file=None, quiet=True))
    assert dynamodb.writes == []


def test_the_cli_refuses_an_incomplete_read_in_one_line(monkeypatch):
    dynamodb = ScriptedDynamoDB(changed_items(120)[1])
    scripted = target(failing_stream(stalled()), dynamodb)
    monkeypatch.setattr("ops.backfill.resolve_target", lambda args: scripted)
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["backfill"], console=console) == 1
    output = console.export_text()
    assert output.count("\n") == 1 and output.startswith("error: ") and "wrote nothing" in output
    assert dynamodb.writes == []


def test_describe_stream_pages_that_loop_are_refused():
    shards, _ = changed_items(3)

    class Looping(ScriptedStream):
        def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
            page = super().describe_stream(StreamArn, ExclusiveStartShardId)
            page["StreamDescription"]["LastEvaluatedShardId"] = shards[0].shard_id
            return page

    with pytest.raises(BackfillError, match="LastEvaluatedShardId"):
        first_records(Looping(shards), STREAM, parse_spec(INVOICE_SPEC), time.time())


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(KeyboardInterrupt(), 130, id="ctrl-c"),
        pytest.param(
            ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "UpdateItem"), 1, id="aws"
        ),
    ],
)
def test_a_run_stopped_between_writes_says_how_far_it_got_and_that_a_rerun_is_exact(monkeypatch, error, code):
    """Adversarial pass: a backfill stopped midway (Ctrl-C, or an AWS error) exited silently (130) or with
    AWS's error alone, leaving the operator to guess whether the aggregates were half backfilled."""
    shards, scanned = changed_items(10)
    dynamodb = ScriptedDynamoDB(scanned, fail_at=(3, error))
    monkeypatch.setattr("ops.backfill.resolve_target", lambda args: target(ScriptedStream(shards), dynamodb))
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["backfill"], console=console) == code
    output = console.export_text()
    assert "backfill stopped after 3 of 10 aggregate(s); each one written is marked" in output
    assert "\n" not in output.strip() and len(dynamodb.writes) == 3  # one line (the progress bar leaves a blank)


@pytest.mark.parametrize("event", ["MODIFY", "REMOVE"])
def test_a_first_record_without_its_old_image_is_refused_not_dropped(event):
    """Adversarial pass: on a stream that is not NEW_AND_OLD_IMAGES an item's first MODIFY or REMOVE has no
    OldImage; backfill took the item as changed (so not from the scan) and added nothing for it: A held 0
    for an item worth 5 at enablement, and its marker locked that in."""
    was, now = invoice_image("A", "1", "5"), invoice_image("A", "1", "7")
    changed = record(10, event, was, now if event == "MODIFY" else None)
    del changed["dynamodb"]["OldImage"]
    dynamodb = ScriptedDynamoDB([now] if event == "MODIFY" else [])
    with pytest.raises(BackfillError, match=f"InvoiceNumber=A TransactionId=1 is a {event} without OldImage"):
        run_backfill(target(ScriptedStream([ScriptedShard(shard_id(1), [changed])]), dynamodb), Console(quiet=True))
    assert dynamodb.writes == []


@pytest.mark.parametrize("status", ["DISABLED", "DISABLING", "ENABLING"])
def test_a_stream_that_is_not_enabled_is_refused(status):
    """Adversarial pass: on a stream disabled after enablement an item changed since has no record, so its
    scanned (changed) image was taken for its state at enablement: A got 7 for an item worth 5 then."""
    now = invoice_image("A", "1", "7")  # 5 at enablement, changed to 7 once the stream was off: no record
    stream = ScriptedStream([ScriptedShard(shard_id(1), [])], status=status)
    dynamodb = ScriptedDynamoDB([now])
    with pytest.raises(BackfillError, match=f"the stream is {status}, not ENABLED"):
        run_backfill(target(stream, dynamodb), Console(quiet=True))
    assert dynamodb.writes == []


def test_a_run_interrupted_while_reading_says_nothing_was_written(monkeypatch):
    shards, scanned = changed_items(3)
    stream, dynamodb = ScriptedStream(shards), ScriptedDynamoDB(scanned)

    def interrupted(ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        raise KeyboardInterrupt

    stream.get_records = interrupted
    monkeypatch.setattr("ops.backfill.resolve_target", lambda args: target(stream, dynamodb))
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["backfill"], console=console) == 130
    assert "interrupted while reading the table and its stream: backfill wrote nothing" in console.export_text()
    assert dynamodb.writes == []


def test_an_iterator_that_expires_before_the_first_record_is_taken_again_from_the_trim_horizon():
    """Iterators last 15 minutes (ExpiredIteratorException); a read with nothing yet read starts over at its start,
    and counts the empty pages it walks again from zero: counted twice, they ended this open shard's read before
    its records, and its item's state at enablement became the scanned one."""
    shards, _ = changed_items(1)
    stream = ScriptedStream(shards)
    original, calls = stream.get_records, []

    def get_records(ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        calls.append(ShardIterator)
        if len(calls) == 3:
            raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "old"}}, "GetRecords")
        return original(ShardIterator, Limit)

    stream.get_records = get_records
    first = first_records(stream, STREAM, parse_spec(INVOICE_SPEC), time.time()).first
    assert [record["dynamodb"]["OldImage"]["Amount"] for record in first.values()] == [{"N": "1"}]
    assert calls[3] == f"{shards[0].shard_id}#0"


def test_a_key_dynamodb_refuses_is_named_and_the_others_are_backfilled(monkeypatch):
    """Adversarial pass: one aggregate DynamoDB refused (its total past 38 digits once the items before the
    stream are added) stopped the run there, and every rerun stopped at the same key: the keys after it were
    never backfilled, and the message said that running again would add them."""
    shards, scanned = changed_items(10)
    refusal = ClientError({"Error": {"Code": "ValidationException", "Message": "Number overflow"}}, "UpdateItem")
    dynamodb = ScriptedDynamoDB(scanned, fail_at=(3, refusal))
    monkeypatch.setattr("ops.backfill.resolve_target", lambda args: target(ScriptedStream(shards), dynamodb))
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["backfill"], console=console) == 1
    output = console.export_text()
    assert "backfilled 9 aggregate(s)" in output
    assert "error: DynamoDB refused 1 aggregate(s), left without their items from before the stream: S:INV3" in output
    assert len(dynamodb.writes) == 9


def test_a_stream_older_than_23_hours_is_refused_with_nothing_written():
    shards, scanned = changed_items(2)
    stream = ScriptedStream(shards, created=datetime.now(UTC) - timedelta(hours=24))
    dynamodb = ScriptedDynamoDB(scanned)
    with pytest.raises(BackfillError, match=r"backfill wrote nothing: the stream was enabled at .* more than 23:00:00"):
        run_backfill(target(stream, dynamodb), Console(quiet=True))
    assert dynamodb.writes == []


def test_an_open_shard_answering_empty_pages_before_its_records_is_read_through_them():
    """edges 2: an open shard was taken to end at its fifth empty page in a row (EMPTY_PAGES), which GetRecords
    may answer before records it holds. The item's first record (5 at enablement, 7 since) was never read, so
    its scanned 7 became its state at enablement, under the marker: A got 7 added to the 2 the stream adds,
    9 for an item worth 7, and backfill exited 0. An open shard is now read through as many empty pages as a
    closed one."""
    was, now = invoice_image("A", "1", "5"), invoice_image("A", "1", "7")
    shard = ScriptedShard(shard_id(1), [record(10, "MODIFY", was, now)], empty_before=EMPTY_PAGES, closed=False)
    dynamodb = ScriptedDynamoDB([now])
    run_backfill(target(ScriptedStream([shard]), dynamodb), Console(quiet=True))
    assert written_totals(dynamodb) == {"A": {"Total": Decimal(5), "TransactionCount": Decimal(1)}}


def made_after_the_scan(sequence: int) -> dict[str, Any]:
    """A new item's INSERT whose creation time is past the scan's end by more than the clocks' margin."""
    inserted = record(sequence, "INSERT", None, invoice_image("B", str(sequence), "1"))
    created = datetime.now(UTC) + timedelta(seconds=CLOCK_MARGIN_SECONDS + 5)
    inserted["dynamodb"]["ApproximateCreationDateTime"] = created
    return inserted


class BusyStream(ScriptedStream):
    """Its open shard never answers an empty page: past its scripted records, each page holds a new record made
    after the scan, as on a table whose writers never pause. More than 500 pages is a read that never ends."""

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        shard_id, _, index = ShardIterator.partition("#")
        position = int(index)
        if position < len(self.shards[0].pages()):
            return super().get_records(ShardIterator, Limit)
        assert position < 500, "the read of a busy open shard never ended"
        self.calls.append(shard_id)
        return {"Records": [made_after_the_scan(10_000 + position)], "NextShardIterator": f"{shard_id}#{position + 1}"}


def test_a_busy_open_shard_is_read_to_a_record_made_after_the_scan_and_no_further(monkeypatch):
    """edges 2: an open shard whose writers never pause never answers five empty pages: backfill read it for
    ever. It now stops at the first record made after the scan ended (every earlier record of the shard is
    then read), and says so."""
    was, now = invoice_image("A", "1", "5"), invoice_image("A", "1", "7")
    shard = ScriptedShard(shard_id(1), [record(10, "MODIFY", was, now)], closed=False)
    stream, dynamodb = BusyStream([shard]), ScriptedDynamoDB([now])
    monkeypatch.setattr("ops.backfill.resolve_target", lambda args: target(stream, dynamodb))
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["backfill"], console=console) == 0
    output = console.export_text()
    assert "read 2 stream record(s): 0 closed shard(s) to their end, 1 open shard(s) past the scan's end" in output
    assert "current end" not in output and len(stream.calls) == 2
    assert written_totals(dynamodb) == {"A": {"Total": Decimal(5), "TransactionCount": Decimal(1)}}


def test_an_open_shard_taken_at_its_current_end_is_named(monkeypatch):
    """edges 2: the API cannot show the end of an open shard that falls quiet; the run says which shards it
    took to end at their empty pages, and what a change it could not yet read there would do."""
    shards, scanned = changed_items(4)  # shards 0 and 3 open, 1 and 2 closed
    dynamodb = ScriptedDynamoDB(scanned)
    monkeypatch.setattr("ops.backfill.resolve_target", lambda args: target(ScriptedStream(shards), dynamodb))
    console = Console(record=True, width=1000, file=io.StringIO())
    assert cli.main(["backfill"], console=console) == 0
    output = console.export_text()
    assert "read 8 stream record(s): 2 closed shard(s) to their end, 0 open shard(s) past the scan's end (" in output
    assert (
        f"2 open shard(s) to their current end ({EMPTY_PAGES_IN_RANGE} empty pages in a row, no record made since "
        f"the scan): {shard_id(0)}, {shard_id(3)}. A change made before the scan ended" in output
    )


class MeetingStream(ScriptedStream):
    """Its open shards' first GetRecords each wait for all the others' (a barrier): a reader that reads shards
    one at a time never gets past the first, and the barrier's guard breaks it."""

    def __init__(self, shards: list[ScriptedShard]):
        super().__init__(shards)
        self.barrier = threading.Barrier(len(shards), timeout=30)

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        if ShardIterator.endswith("#0"):
            self.barrier.wait()
        return super().get_records(ShardIterator, Limit)


def test_shards_are_read_at_once_so_quiet_open_ones_wait_out_their_empty_pages_together():
    """edges 2: a quiet open shard now takes 100 empty pages (25 s of pauses) to be taken at its end; read one at a
    time, a table's n open shards took n times that. They are read SHARD_READERS at a time."""
    shards, scanned = changed_items(SHARD_READERS)
    for shard in shards:
        shard.closed = False
    stream, dynamodb = MeetingStream(shards), ScriptedDynamoDB(scanned)
    run_backfill(target(stream, dynamodb), Console(quiet=True))
    assert len(written_totals(dynamodb)) == 10 and not stream.barrier.broken
