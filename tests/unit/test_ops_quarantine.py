"""The redrive rule (ops.quarantine_plan), case by case: what the handler did decides what redrive may do."""

import json

import pytest

from handler.outcome import REFUSED_REASON, UNSTORABLE_REASON, Quarantined, ReasonKind, reason, reason_kind
from handler.position import STREAM_RETENTION_SECONDS
from handler.processor import STALE_REASON
from handler.quarantine import message_body
from handler.records import decode_record
from handler.spec import parse_spec
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
    from ops.quarantine_command import merged
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
