"""The redrive rule (ops.quarantine_plan), case by case: what the handler did decides what redrive may do."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.position import STREAM_RETENTION_SECONDS
from handler.processor import STALE_REASON
from handler.quarantine import message_body
from handler.records import decode_record
from handler.spec import parse_spec
from handler.types import Quarantined, ReasonKind, reason, reason_kind
from handler.write_loop import REFUSED_REASON, UNSTORABLE_REASON
from ops.quarantine_plan import (
    Action,
    MessageError,
    age_seconds,
    needs_source_item,
    quarantined_record,
    redrive_decision,
    same_image,
    written_again,
)
from tests.conftest import INVOICE_SPEC, invoice_image, stream_record

SPEC = parse_spec(INVOICE_SPEC)
INVALID_NEW_IMAGE = ReasonKind.INVALID_NEW_IMAGE
COUNT_ONLY = parse_spec({**INVOICE_SPEC, "measures": [{"name": "TransactionCount", "op": "count"}]})
SINGLE_SOURCE = parse_spec({"partition_key": "InvoiceNumber", "measures": [{"name": "N", "op": "count"}]})


def bad(transaction="2"):
    image = invoice_image("A", transaction, None)
    image["Amount"] = {"S": "five"}
    return image


def quarantined(raw, reason=f"{INVALID_NEW_IMAGE}: attribute 'Amount' must be a number (N) to sum, got type S"):
    return quarantined_record(message_body(Quarantined(0, decode_record(raw, 0), reason)))


def test_a_message_the_handler_wrote_reads_back_and_copies_share_an_identity():
    first = quarantined(stream_record(7, "INSERT", new=bad()))
    again = quarantined(stream_record(7, "INSERT", new=bad()))
    assert first.identity == again.identity and first.sequence_number == "7"
    assert first.invalid_image_only and needs_source_item(first) and first.event_name == "INSERT"
    for text in ("nope", "[]", json.dumps({"reason": "x"})):
        with pytest.raises(MessageError):
            quarantined_record(text)
    body = json.loads(message_body(Quarantined(0, decode_record(stream_record(7, "INSERT", new=bad()), 0), "r: x")))
    for digits in ("7²", "١٢٣"):  # str.isdigit() accepts both; neither compares as the number it looks like
        with pytest.raises(MessageError, match="no sequenceNumber"):
            quarantined_record(json.dumps({**body, "sequenceNumber": digits}))


def test_the_age_is_the_changes_time_else_when_sqs_got_it():
    assert age_seconds(100.0, 500.0, 1000.0) == 900.0
    assert age_seconds(None, 500.0, 1000.0) == 500.0
    assert age_seconds(None, None, 1000.0) is None


def test_a_source_item_fixed_since_settles_the_record_and_it_is_never_applied():
    record = quarantined(stream_record(7, "INSERT", new=bad()))
    fixed = invoice_image("A", "2", "5")
    decision = redrive_decision(SPEC, record, fixed, age=60)
    assert decision.action is Action.SETTLE and "fixed" in decision.note
    assert redrive_decision(SPEC, record, None, age=60).action is Action.SETTLE, "deleted since"


def test_a_source_item_unchanged_or_still_bad_keeps_the_record():
    record = quarantined(stream_record(7, "INSERT", new=bad()))
    unchanged = redrive_decision(SPEC, record, bad(), age=60)
    assert unchanged.action is Action.KEEP and "unchanged and still invalid" in unchanged.note
    other_bad = bad()
    other_bad["Amount"] = {"S": "six"}
    changed = redrive_decision(SPEC, record, other_bad, age=60)
    assert changed.action is Action.KEEP and "changed but is still invalid" in changed.note


def test_a_record_valid_under_the_current_spec_is_applied_while_its_positions_are_kept():
    missing = invoice_image("A", "2", None)
    record = quarantined(stream_record(7, "INSERT", new=missing))
    assert redrive_decision(COUNT_ONLY, record, missing, age=60).action is Action.APPLY
    old = redrive_decision(COUNT_ONLY, record, missing, age=STREAM_RETENTION_SECONDS + 1)
    assert old.action is Action.KEEP and "count it twice" in old.note
    single = quarantined(stream_record(7, "INSERT", new={"InvoiceNumber": {"S": "A"}}))
    image = {"InvoiceNumber": {"S": "A"}}
    assert redrive_decision(SINGLE_SOURCE, single, image, age=30 * 86400).action is Action.APPLY, "never expire"


def test_a_truncated_record_is_settled_only_on_the_operators_word_and_a_valid_item():
    raw = stream_record(7, "INSERT", new=bad())
    record = quarantined(raw)
    truncated = type(record)(record.stream_arn, record.sequence_number, record.reason, record.record, True)
    assert redrive_decision(SPEC, truncated, invoice_image("A", "2", "5"), age=60).action is Action.KEEP
    fixed = redrive_decision(SPEC, truncated, invoice_image("A", "2", "5"), age=60, source_fixed=True)
    assert fixed.action is Action.SETTLE
    assert redrive_decision(SPEC, truncated, bad(), age=60, source_fixed=True).action is Action.KEEP


@pytest.mark.parametrize(
    "reason",
    [
        "ordering: sequence 7 is not after an earlier record of the same item",
        "stale stream: this record's stream is older",
        "amounts: the change between the old and new image needs more than 38 digits to be exact",
        "refused: DynamoDB will not apply this record",
        "bad key: Keys has no partition key 'InvoiceNumber'",
        "foreign stream: from the stream of arn:aws:dynamodb:us-east-1:123456789012:table/Other, not of the source",
        "MODIFY without OldImage: the stream must be NEW_AND_OLD_IMAGES",
    ],
)
def test_records_that_were_not_or_may_not_have_been_applied_are_for_reconcile(reason):
    record = quarantined(stream_record(7, "INSERT", new=invoice_image("A", "2", "5")), reason=reason)
    assert not needs_source_item(record)
    decision = redrive_decision(SPEC, record, None, age=60)
    assert decision.action is Action.KEEP and "reconcile the key" in decision.note


def test_images_compare_by_value():
    stored = {"N": {"N": "5.0"}, "S": {"SS": ["b", "a"]}, "M": {"M": {"x": {"NS": ["2", "1"]}}}}
    streamed = {"N": {"N": "5"}, "S": {"SS": ["a", "b"]}, "M": {"M": {"x": {"NS": ["1", "2.00"]}}}}
    assert same_image(stored, streamed)
    assert not same_image(stored, {**streamed, "N": {"N": "6"}})
    assert not same_image(None, streamed)


@pytest.mark.parametrize("refused_first", [False, True], ids=["bad-image-copy-first", "refused-copy-first"])
def test_copies_with_different_reasons_are_decided_by_the_one_that_promises_least(refused_first):
    """The handler quarantines a MODIFY to a bad image for its image, and again if DynamoDB then refuses
    its removal: the removal was not applied, so the record is for reconcile whichever copy comes first."""
    from ops.quarantine import merged
    from ops.queue import QueueMessage

    raw = stream_record(7, "MODIFY", new=bad("1"), old=invoice_image("A", "1", "10"))
    reasons = (f"{INVALID_NEW_IMAGE}: attribute 'Amount' must be a number", "refused: DynamoDB will not apply it")
    copies = [message_body(Quarantined(0, decode_record(raw, 0), reason)) for reason in reasons]
    if refused_first:
        copies.reverse()
    messages = [QueueMessage(str(i), f"handle-{i}", text, None) for i, text in enumerate(copies)]
    (entry,) = merged(messages)
    assert len(entry.messages) == 2 and entry.record.reason.startswith("refused:")
    decision = redrive_decision(SPEC, entry.record, invoice_image("A", "1", "5"), age=60)
    assert decision.action is Action.KEEP and "reconcile the key" in decision.note


def test_only_an_items_last_quarantined_record_can_be_unchanged_since():
    missing = invoice_image("A", "2", None)
    first = quarantined(stream_record(7, "INSERT", new=missing))
    again = quarantined(stream_record(9, "INSERT", new=missing))
    other = quarantined(stream_record(8, "INSERT", new=invoice_image("A", "3", None)))
    assert written_again([again, other, first]) == {first.identity}
    kept = redrive_decision(COUNT_ONLY, first, missing, age=60, later_record=True)
    assert kept.action is Action.KEEP and "count it twice" in kept.note
    assert redrive_decision(COUNT_ONLY, again, missing, age=60).action is Action.APPLY


def test_a_modify_whose_old_image_counts_now_is_kept_since_it_may_never_have_been_added():
    old, new = invoice_image("A", "2", None, date="01012026"), invoice_image("A", "2", None, date="02012026")
    modify = quarantined(stream_record(8, "MODIFY", new=new, old=old))
    kept = redrive_decision(COUNT_ONLY, modify, new, age=60)
    assert kept.action is Action.KEEP and "never added" in kept.note
    only_new_date = {"attribute": "InvoiceDate", "values": ["02012026"]}
    filtered = parse_spec({**INVOICE_SPEC, "measures": [{"name": "C", "op": "count"}], "filter": only_new_date})
    assert redrive_decision(filtered, modify, new, age=60).action is Action.APPLY, "its old image counts as nothing"


def test_every_reason_the_handler_writes_names_its_kind():
    assert all(reason_kind(reason(kind, "what is wrong: details")) is kind for kind in ReasonKind)
    assert reason_kind(STALE_REASON) is ReasonKind.STALE_STREAM
    assert (reason_kind(UNSTORABLE_REASON), reason_kind(REFUSED_REASON)) == (ReasonKind.AMOUNTS, ReasonKind.REFUSED)
    assert reason_kind("quarantine send failed: throttled") is None and reason_kind("no colon here") is None


def test_a_record_quarantined_for_a_foreign_stream_is_never_applied_by_redrive():
    """Even when the record is valid, fresh and from the stream redrive's target reads (the handler
    was configured with another source table): what the handler refused, only reconcile may decide."""
    why = reason(ReasonKind.FOREIGN_STREAM, "from the stream of arn:aws:dynamodb:eu-west-1:1:table/T, not of ...")
    record = quarantined(stream_record(7, "INSERT", new=invoice_image("A", "2", "5")), reason=why)
    for spec in (SPEC, COUNT_ONLY, SINGLE_SOURCE):
        decision = redrive_decision(spec, record, invoice_image("A", "2", "5"), age=60)
        assert decision.action is Action.KEEP and "not its source table's" in decision.note


# --- malformed messages: the parser says "unreadable" or gives a record every later step can handle ---

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
"""Any JSON value (floats include inf and NaN, which json.dumps writes and json.loads reads back)."""


def valid_body(reason=f"{INVALID_NEW_IMAGE}: attribute 'Amount' must be a number (N) to sum, got type S"):
    return json.loads(
        message_body(Quarantined(0, decode_record(stream_record(7, "MODIFY", new=bad(), old=bad()), 0), reason))
    )


def paths(value, prefix=()):
    """Every place in a JSON document a value can be put."""
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from paths(child, (*prefix, key))


def replaced(document, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@st.composite
def messages(draw):
    """A message the handler wrote with one place anywhere in it replaced by any JSON value; any JSON; any text."""
    reason = draw(st.sampled_from([valid_body()["reason"], "bad key: Keys has no partition key", "no colon"]))
    document = valid_body(reason)
    shape = draw(st.sampled_from(["any JSON", "any text", "a message changed in one place"]))
    if shape == "any JSON":
        return json.dumps(draw(JSON))
    if shape == "any text":
        return draw(st.text(max_size=40))
    path = draw(st.sampled_from(list(paths(document))))
    return json.dumps(replaced(document, path, draw(JSON)))


def every_later_step(text, now=1e9):
    """What list, drop and redrive do with a message once read, short of calling AWS."""
    from io import StringIO

    from rich.console import Console

    from ops.quarantine import Settled, _list_table, _show, merged
    from ops.queue import QueueMessage

    (entry,) = merged([QueueMessage("m", "h", text, now - 60)])
    record = entry.record
    assert record is not None and isinstance(record.position, str) and isinstance(record.identity, tuple)
    written_again([record, quarantined(stream_record(9, "INSERT", new=bad()))])
    new_image = record.body.get("NewImage")
    for current in (None, bad(), new_image if isinstance(new_image, dict) else None):
        for spec in (SPEC, COUNT_ONLY, SINGLE_SOURCE):
            if needs_source_item(record):
                redrive_decision(spec, record, current, entry.age(now))
    console = Console(file=StringIO(), width=120)
    console.print(_list_table([entry], now))
    _show(console, "drop", Settled(rows=[(entry, "dropped", "older")], delete=list(entry.messages)), now, False)


@settings(max_examples=400, deadline=None)
@given(messages())
def test_no_message_makes_the_parser_or_what_follows_raise_anything_but_unreadable(text):
    try:
        quarantined_record(text)
    except MessageError:
        return
    every_later_step(text)


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        pytest.param(("record", "dynamodb", "Keys"), "InvoiceNumber=ABC", "no Keys", id="keys-as-text"),
        pytest.param(("record", "dynamodb", "Keys", "InvoiceNumber"), "ABC", "bad Keys", id="untyped-key"),
        pytest.param(("record", "dynamodb", "Keys", "InvoiceNumber"), {"S": 5}, "bad Keys", id="S-of-a-number"),
        pytest.param(("record", "dynamodb", "Keys", "InvoiceNumber"), {"B": "%%"}, "bad Keys", id="B-not-base64"),
        pytest.param(("record", "dynamodb", "SequenceNumber"), "8", "differs", id="record-of-another-sequence"),
        pytest.param(("record", "eventSourceARN"), "arn:other", "differs", id="record-of-another-stream"),
        pytest.param(("record", "eventSource"), "aws:kinesis", "not a DynamoDB stream record", id="not-dynamodb"),
        pytest.param(("record", "dynamodb", "NewImage"), None, "no NewImage", id="no-new-image"),
        pytest.param(("truncated",), "yes", "truncated", id="truncated-not-a-bool"),
    ],
)
def test_a_message_the_handler_cannot_have_written_is_unreadable_and_says_why(where, value, problem):
    with pytest.raises(MessageError, match=problem):
        quarantined_record(json.dumps(replaced(valid_body(), where, value)))


def test_a_record_quarantined_for_its_keys_is_read_and_shown_with_its_keys_as_they_came():
    record = quarantined_record(json.dumps(replaced(valid_body("bad key: x"), ("record", "dynamodb", "Keys"), "K=1")))
    assert record.key_text == 'Keys "K=1"' and record.keys == {} and not needs_source_item(record)


@pytest.mark.parametrize("created", [float("inf"), float("-inf"), float("nan"), -1e300, 1e300, -5.0])
def test_a_creation_time_that_cannot_be_the_changes_gives_way_to_when_sqs_got_the_message(created):
    assert age_seconds(created, 500.0, 1000.0) == 500.0


def test_drops_list_is_never_cut_short_in_piped_output():
    """At 80 columns (piped) a long key was cut to "InvoiceNumber=XXXX…": the record of what to reconcile."""
    from io import StringIO

    from rich.console import Console

    from ops.quarantine import Settled, _show, merged
    from ops.queue import QueueMessage
    from tests.unit.test_ops_query import column_text

    long_key = "K" * 150
    image = invoice_image(long_key, "1", None)
    (entry,) = merged([QueueMessage("m", "h", message_body(quarantined_raw(image)), 1.0)])
    output = StringIO()
    _show(Console(file=output, width=80), "drop", Settled(rows=[(entry, "dropped", "older")]), 100.0, False)
    assert column_text(output.getvalue(), 0) == f"InvoiceNumber={long_key} TransactionId=1", output.getvalue()


def quarantined_raw(image):
    return Quarantined(0, decode_record(stream_record(7, "INSERT", new=image), 0), "bad key: x")


def test_a_message_of_the_same_record_with_other_keys_is_not_merged_as_a_copy():
    """Merged, its keys were never shown, and settling or dropping the record deleted it too."""
    from ops.quarantine import merged
    from ops.queue import QueueMessage

    first = message_body(quarantined_raw(invoice_image("A", "1", None)))
    other = message_body(quarantined_raw(invoice_image("B", "1", None)))
    again = message_body(quarantined_raw(invoice_image("A", "1", None)))
    entries = merged([QueueMessage(str(i), f"h{i}", body, 0.0) for i, body in enumerate((first, other, again))])
    assert [(entry.key, len(entry.messages)) for entry in entries] == [("InvoiceNumber=A TransactionId=1", 2), ("-", 1)]
    assert "differ from a copy" in entries[1].reason and entries[1].messages[0].body == other
