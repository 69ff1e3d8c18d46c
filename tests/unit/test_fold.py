from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.fold import NumberOverflow, fold, measure_updates, split_applied, storable
from handler.inline_store import INLINE_POSITION, InlineStore
from handler.position import item_token, ledger_id, ledger_ids, position_text, stream_label
from handler.types import Delta

OLD_STREAM = "2026-01-01T00:00:00.000"
NEW_STREAM = "2026-06-01T00:00:00.000"


def at(sequence: int, label: str = OLD_STREAM) -> str:
    return position_text(label, str(sequence))


def delta(index: int, sequence: int, item: str = "S:A", total: str = "1", date: str | None = None) -> Delta:
    latest = {"D": {"S": date}} if date else {}
    return Delta(index, at(sequence), item, 1000, {"Total": Decimal(total)}, latest)


def test_fold_is_exact_where_floats_are_not():
    folded = fold([delta(i, i, total="0.1") for i in range(1, 11)])
    assert folded.numbers["Total"] == Decimal("1.0")
    big = fold([delta(1, 1, total="9" * 38), delta(2, 2, total="-" + "9" * 38), delta(3, 3, total="0.01")])
    assert big.numbers["Total"] == Decimal("0.01")


def test_latest_is_the_last_in_stream_order():
    folded = fold([delta(0, 1, date="a"), delta(1, 2), delta(2, 3, date="c"), delta(3, 4)])
    assert folded.latest == {"D": {"S": "c"}}


def test_first_and_last_per_item():
    folded = fold([delta(0, 5, "S:A"), delta(1, 6, "S:B"), delta(2, 9, "S:A")])
    assert folded.first == {"S:A": at(5), "S:B": at(6)}
    assert folded.last == {"S:A": (at(9), 1000), "S:B": (at(6), 1000)}


def test_split_drops_what_the_stored_position_covers_and_keeps_the_rest():
    deltas = [delta(0, 5, "S:A"), delta(1, 6, "S:B"), delta(2, 9, "S:A")]
    split = split_applied(deltas, {"S:A": at(5)})
    assert [d.position for d in split.pending] == [1, 2] and [d.position for d in split.applied] == [0]
    assert split.stale == []


def test_a_new_stream_sorts_after_the_old_one_whatever_its_sequence_numbers():
    """Re-enabling a stream restarts sequence numbers; the label keeps the order right."""
    assert at(1, NEW_STREAM) > at(10**39, OLD_STREAM)
    split = split_applied([Delta(0, at(1, NEW_STREAM), "S:A", 0, {}, {})], {"S:A": at(10**39, OLD_STREAM)})
    assert [d.position for d in split.pending] == [0]


def test_a_record_of_an_older_stream_than_the_stored_one_is_stale_not_a_duplicate():
    split = split_applied([delta(0, 7)], {"S:A": at(3, NEW_STREAM)})
    assert [d.position for d in split.stale] == [0] and split.applied == [] and split.pending == []


def test_stream_label_is_the_arn_suffix():
    arn = f"arn:aws:dynamodb:eu-west-1:123456789012:table/Invoices/stream/{OLD_STREAM}"
    assert stream_label(arn) == OLD_STREAM
    assert stream_label("eventsource_arn") == "eventsource_arn", "a test event's placeholder ARN"


@given(st.integers(0, 10**40 - 1), st.integers(0, 10**40 - 1))
def test_positions_compare_like_the_sequence_numbers(a, b):
    assert (at(a) < at(b)) == (a < b)


@given(st.text(max_size=5), st.text(max_size=5), st.text(max_size=5), st.text(max_size=5))
def test_item_tokens_and_ledger_ids_never_collide(p1, s1, p2, s2):
    if (p1, s1) != (p2, s2):
        assert item_token(p1, s1) != item_token(p2, s2)
        assert ledger_id("G", item_token(p1, s1)) != ledger_id("G", item_token(p2, s2))
    assert ledger_id(p1, s1) == ledger_id(p1, s1) and len(ledger_id(p1, s1)) == 32


def test_ledger_ids_are_the_ones_deployed_ledgers_hold():
    """A ledger id is stored: the values computed before any change to how it is hashed."""
    assert ledger_id("S:c1", "S:o1") == "94855cc74a1e5be11dcbd3a019621c57"
    assert ledger_id("N:12.5", "8:S:INV-1S:T\u00e91") == "9518592f7611b82efc19dddcd58bd6ae"


@given(st.text(max_size=12), st.lists(st.text(max_size=12), max_size=4))
def test_ledger_ids_of_one_key_are_its_ledger_ids(group, items):
    """transaction() hashes a key's part once (ledger_ids); each id must be ledger_id's."""
    of = ledger_ids(group)
    assert [of(item) for item in items] == [ledger_id(group, item) for item in items]


def test_inline_request_is_one_conditional_write():
    store = InlineStore(client=None, table_name="Agg", group_by="AccountId")
    from handler.types import KeyPlan

    plan = KeyPlan("S:A", {"S": "A"}, [delta(0, 5, date="x"), delta(1, 7)])
    request = store.request(plan, plan.deltas)
    assert request["UpdateExpression"] == "SET #l0 = :l0, #p = :p ADD #n0 :n0"
    assert request["ConditionExpression"] == "attribute_not_exists(#p) OR #p < :first"
    assert request["ExpressionAttributeNames"]["#p"] == INLINE_POSITION
    assert request["ExpressionAttributeValues"][":first"] == {"S": at(5)}
    assert request["ExpressionAttributeValues"][":p"] == {"S": at(7)}
    assert request["ExpressionAttributeValues"][":n0"] == {"N": "2"}


def test_an_item_with_one_record_compares_with_the_position_it_sets():
    """first == last: the condition reads ``:p``; a redelivery of that record fails it (not below itself)."""
    store = InlineStore(client=None, table_name="Agg", group_by="AccountId")
    from handler.types import KeyPlan

    plan = KeyPlan("S:A", {"S": "A"}, [delta(0, 5)])
    request = store.request(plan, plan.deltas)
    assert request["ConditionExpression"] == "attribute_not_exists(#p) OR #p < :p"
    assert request["ExpressionAttributeValues"] == {":p": {"S": at(5)}, ":n0": {"N": "1"}}


def test_numbers_are_sent_in_fixed_point():
    expression = measure_updates(fold([delta(0, 1, total="1E-7")]))
    assert expression.values[":n0"] == {"N": "0.0000001"}


def test_a_delta_wider_than_38_digits_is_refused():
    with pytest.raises(NumberOverflow):
        measure_updates(fold([delta(0, 1, total="9" * 38), delta(1, 2, total="0.1")]))


@given(st.integers(-(10**45), 10**45), st.integers(-60, 60))
def test_storable_refuses_exactly_the_numbers_of_more_than_38_digits(coefficient, exponent):
    """storable skips counting digits when the text is short; it must refuse what a count refuses,
    however the number is written (1E+50 is one digit in 51 characters)."""
    number = Decimal(f"{coefficient}E{exponent}")  # exact: scaleb would round to 28 digits
    if len(number.as_tuple().digits) > 38:
        with pytest.raises(NumberOverflow):
            storable(number, "Total")
    else:
        assert storable(number, "Total") == format(number, "f")
