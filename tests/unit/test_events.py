"""Decoding the project's own events (tests/events): every shape the handler meets or refuses.

Events written by others are read in test_shared_events.py, when they are beside the repository.
"""

import pytest

from handler.errors import EventShapeError
from handler.planner import plan_batch
from handler.position import item_token
from handler.spec import parse_spec
from tests.conftest import decode_event, load_event

ORDERS = parse_spec({"partition_key": "OrderId", "group_by": "CustomerId", "measures": [{"name": "N", "op": "count"}]})


@pytest.mark.parametrize(
    ("name", "view", "quarantined"),
    [
        pytest.param("view_keys_only.json", "KEYS_ONLY", [0, 1, 2], id="keys-only"),
        pytest.param("view_new_image.json", "NEW_IMAGE", [1, 2], id="new-image"),
        pytest.param("view_old_image.json", "OLD_IMAGE", [0, 1], id="old-image"),
    ],
)
def test_other_stream_view_types_quarantine_what_they_cannot_carry(name, view, quarantined):
    """Only NEW_AND_OLD_IMAGES carries both images; the reason names the fix."""
    event = load_event(name)
    assert {r.raw["dynamodb"]["StreamViewType"] for r in decode_event(event)} == {view}
    plan = plan_batch(ORDERS, event["Records"], now=0)
    assert [q.position for q in plan.quarantine] == quarantined
    assert all("NEW_AND_OLD_IMAGES" in q.reason for q in plan.quarantine)


def test_binary_and_number_keys_are_one_item_whatever_their_spelling():
    spec = parse_spec(
        {
            "partition_key": "Blob",
            "sort_key": "Seq",
            "group_by": "Blob",
            "measures": [{"name": "S", "op": "sum", "attribute": "Amount"}],
        }
    )
    plan = plan_batch(spec, load_event("binary_and_number_keys.json")["Records"], now=0)
    assert plan.quarantine == [] and list(plan.keys) == ["B:AQID"]
    assert {d.item for d in plan.keys["B:AQID"].deltas} == {item_token("B:AQID", "N:1.5")}, "1.50 and 1.5 are one key"


def test_ttl_delete_and_creation_time_in_milliseconds():
    ttl_remove, in_ms = decode_event(load_event("ttl_delete_and_milliseconds.json"))
    assert ttl_remove.is_ttl_delete and ttl_remove.created_at == 1795856400
    assert not in_ms.is_ttl_delete and in_ms.created_at == pytest.approx(1795856400.123)


def test_a_repeated_sequence_number_for_one_item_is_quarantined_not_applied():
    plan = plan_batch(ORDERS, load_event("repeated_sequence_number.json")["Records"], now=0)
    assert plan.counters.ordering_violations == 1 and [q.position for q in plan.quarantine] == [1]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("tumbling_window.json", "tumbling-window", id="tumbling-window"),
        pytest.param("on_failure_destination.json", "on-failure destination", id="on-failure"),
        pytest.param("single_record.json", "single stream record", id="single-record"),
    ],
)
def test_payloads_that_are_not_a_trigger_batch_are_rejected_by_name(name, message):
    with pytest.raises(EventShapeError, match=message):
        decode_event(load_event(name))


@pytest.mark.parametrize(
    "event",
    [
        pytest.param([], id="list"),
        pytest.param({"foo": 1}, id="no-records"),
        pytest.param({"Records": [{"eventSource": "aws:kinesis"}]}, id="kinesis"),
        pytest.param(
            {"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "x1"}}]}, id="bad-seq"
        ),
        pytest.param({"Records": [{"eventSource": "aws:dynamodb"}]}, id="no-body"),
    ],
)
def test_malformed_events_raise_event_shape_error(event):
    with pytest.raises(EventShapeError):
        decode_event(event)


def test_own_fixtures_decode():
    for name in ("invoice_seed.json", "invoice_lifecycle.json", "invoice_ttl_remove.json", "invoice_bad_amount.json"):
        assert decode_event(load_event(name))


@pytest.mark.parametrize("sequence", ["12²", "١٢٣", "1" * 41], ids=["superscript", "arabic-indic", "41-digits"])
def test_a_sequence_number_must_be_ascii_digits_a_position_can_hold(sequence):
    """str.isdigit() accepts "²" and other scripts' digits, which no position compares as numbers."""
    record = load_event("single_record.json")
    record["dynamodb"]["SequenceNumber"] = sequence
    with pytest.raises(EventShapeError, match="has no decimal SequenceNumber"):
        decode_event({"Records": [record]})
