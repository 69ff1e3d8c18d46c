from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.fold import Delta, NumberOverflow, fold, prune_request, unapplied, update_request
from handler.watermark import PRUNE_AFTER_SECONDS, WatermarkEntry, entry_text, expired, padded, read_entries


def delta(position: int, sequence: int, partition: str = "S:A", total: str = "1", date: str | None = None) -> Delta:
    return Delta(position, sequence, partition, 1000, {"Total": Decimal(total)}, {"D": {"S": date}} if date else {})


def test_fold_is_exact_where_floats_are_not():
    folded = fold([delta(i, i, total="0.1") for i in range(1, 11)])
    assert folded.numbers["Total"] == Decimal("1.0")
    big = fold([delta(1, 1, total="9" * 38), delta(2, 2, total="-" + "9" * 38), delta(3, 3, total="0.01")])
    assert big.numbers["Total"] == Decimal("0.01")


def test_latest_is_the_last_in_stream_order():
    folded = fold([delta(0, 1, date="a"), delta(1, 2), delta(2, 3, date="c"), delta(3, 4)])
    assert folded.latest == {"D": {"S": "c"}}


def test_first_and_last_per_partition():
    folded = fold([delta(0, 5, "S:A"), delta(1, 6, "S:B"), delta(2, 9, "S:A")])
    assert folded.first_sequence == {"S:A": 5, "S:B": 6}
    assert folded.last == {"S:A": (9, 1000), "S:B": (6, 1000)}


def test_unapplied_drops_what_the_watermark_covers():
    deltas = [delta(0, 5, "S:A"), delta(1, 6, "S:B"), delta(2, 9, "S:A")]
    pending, applied = unapplied(deltas, {"S:A": 5})
    assert [d.position for d in pending] == [1, 2] and [d.position for d in applied] == [0]


def test_update_request_is_one_conditional_write():
    request = update_request("Agg", "InvoiceNumber", {"S": "ABC"}, fold([delta(0, 5, date="x"), delta(1, 7, "S:B")]))
    assert request["UpdateExpression"] == "SET #l0 = :l0, #w0 = :w0, #w1 = :w1 ADD #n0 :n0"
    assert request["ConditionExpression"] == (
        "(attribute_not_exists(#w0) OR #w0 < :f0) AND (attribute_not_exists(#w1) OR #w1 < :f1)"
    )
    assert request["ExpressionAttributeNames"]["#w1"] == "_wm:S:B"
    assert request["ExpressionAttributeValues"][":n0"] == {"N": "2"}
    assert request["ExpressionAttributeValues"][":f0"] == {"S": padded(5)}


def test_numbers_are_sent_in_fixed_point():
    request = update_request("Agg", "K", {"S": "k"}, fold([delta(0, 1, total="1E-7")]))
    assert request["ExpressionAttributeValues"][":n0"] == {"N": "0.0000001"}


def test_a_delta_wider_than_38_digits_is_refused():
    with pytest.raises(NumberOverflow):
        update_request("Agg", "K", {"S": "k"}, fold([delta(0, 1, total="9" * 38), delta(1, 2, total="0.1")]))


@given(st.integers(0, 10**40 - 1), st.integers(0, 10**40 - 1), st.integers(0, 2**40))
def test_stored_watermark_compares_like_the_numbers(stored, first, created):
    assert (entry_text(stored, created) < padded(first)) == (stored < first)


def test_expired_watermarks_and_their_conditional_prune():
    now = 2_000_000_000
    item = {
        "_wm:S:old": {"S": entry_text(5, now - PRUNE_AFTER_SECONDS - 1)},
        "_wm:S:new": {"S": entry_text(6, now - 60)},
        "Total": {"N": "3"},
    }
    entries = read_entries(item)
    assert set(entries) == {"S:old", "S:new"}
    stale = expired(entries, now, keep=frozenset())
    assert [e.attribute for e in stale] == ["_wm:S:old"]
    assert expired(entries, now, keep=frozenset({"S:old"})) == []
    request = prune_request("Agg", "K", {"S": "k"}, stale)
    assert request["UpdateExpression"] == "REMOVE #p0"
    assert request["ConditionExpression"] == "#p0 = :p0"
    assert request["ExpressionAttributeValues"][":p0"] == {"S": stale[0].stored}
    assert isinstance(stale[0], WatermarkEntry)
