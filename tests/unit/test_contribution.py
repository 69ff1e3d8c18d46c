from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregations import ORDERS_AGGREGATION
from handler.attributes import NUMBER_SYNTAX, parse_number, storage_problem
from handler.contribution import record_effect
from handler.errors import InvalidImage
from handler.position import item_token
from handler.records import decode_record
from handler.spec import parse_spec
from tests.conftest import INVOICE_SPEC, invoice_image, stream_record

ORDERS_SPEC = parse_spec(ORDERS_AGGREGATION)


def order(order_id: str, customer: str, amount: str, status: str = "PAID") -> dict:
    return {
        "OrderId": {"S": order_id},
        "CustomerId": {"S": customer},
        "Amount": {"N": amount},
        "Status": {"S": status},
        "OrderDate": {"S": "2026-11-26"},
    }


def effect(record: dict, spec=None):
    return record_effect(spec or parse_spec(INVOICE_SPEC), decode_record(record, 0))


def test_insert_adds_new_image():
    result = effect(stream_record(1, "INSERT", new=invoice_image("ABC", "1", "100.10")))
    assert result.removed is None
    assert result.added.numbers == {"Total": Decimal("100.10"), "TransactionCount": 1}
    assert result.added.latest == {"UpdateDate": {"S": "06062016"}}
    assert result.item_token == item_token("S:ABC", "S:1"), "the item is the partition AND sort key"


def test_modify_removes_old_and_adds_new():
    result = effect(
        stream_record(2, "MODIFY", old=invoice_image("ABC", "1", "100"), new=invoice_image("ABC", "1", "70"))
    )
    assert result.removed.numbers["Total"] == 100 and result.added.numbers["Total"] == 70


def test_remove_takes_old_away_unless_ttl_is_ignored():
    remove = stream_record(3, "REMOVE", old=invoice_image("ABC", "1", "100"), ttl=True)
    assert effect(remove).removed.numbers["Total"] == 100
    ignoring = parse_spec({**INVOICE_SPEC, "ttl_deletes": "ignore"})
    result = effect(remove, ignoring)
    assert result.removed is None and result.added is None and "ttl-delete-ignored" in result.notes


def test_invalid_new_image_is_quarantined_but_old_is_still_removed():
    bad = invoice_image("ABC", "1", None)
    bad["Amount"] = {"S": "oops"}
    result = effect(stream_record(4, "MODIFY", old=invoice_image("ABC", "1", "5"), new=bad))
    assert "Amount" in result.quarantine_reason and "must be a number" in result.quarantine_reason
    assert result.removed.numbers["Total"] == 5 and result.added is None


@pytest.mark.parametrize(
    ("amount", "fragment"),
    [
        ("NaN", "is not a number"),
        ("12abc", "not a number"),
        # Decimal reads these as numbers; DynamoDB never writes them: one ASCII syntax (NUMBER_SYNTAX)
        ("\u0663", "is not a number"),  # Arabic-Indic 3
        ("\uff15", "is not a number"),  # fullwidth 5
        (" 5", "is not a number"),
        ("1_0", "is not a number"),
        ("Infinity", "is not a number"),
        ("1" * 39, "39 significant digits; DynamoDB keeps 38"),
        ("1E-131", "closer to zero than DynamoDB's smallest number"),
        ("1E+126", "larger than DynamoDB's largest number"),
    ],
)
def test_numbers_dynamodb_could_not_store_are_invalid(amount, fragment):
    result = effect(stream_record(5, "INSERT", new=invoice_image("ABC", "1", amount)))
    assert fragment in result.quarantine_reason


@pytest.mark.parametrize(
    "amount", ["1" + "0" * 40, "0." + "0" * 40 + "1", "1.50000000000000000000000000000000000000000"]
)
def test_numbers_with_zeros_dynamodb_trims_are_valid(amount):
    """DynamoDB trims leading and trailing zeros: these have one or two significant digits."""
    result = effect(stream_record(5, "INSERT", new=invoice_image("ABC", "1", amount)))
    assert result.quarantine_reason is None and result.added.numbers["Total"] == Decimal(amount)


def test_missing_old_image_means_wrong_stream_view():
    record = stream_record(6, "MODIFY", new=invoice_image("ABC", "1", "1"))
    assert "NEW_AND_OLD_IMAGES" in effect(record).quarantine_reason


def test_group_change_moves_contribution_between_keys():
    record = stream_record(7, "MODIFY", old=order("o1", "alice", "10"), new=order("o1", "bob", "10"), keys=("OrderId",))
    result = effect(record, ORDERS_SPEC)
    assert result.removed.group_token == "S:alice" and result.added.group_token == "S:bob"
    assert result.item_token == "S:o1"


def test_keys_the_spec_does_not_name_are_refused_rather_than_merged():
    """A sort key left out of the spec would make two items share one position and undercount."""
    record = stream_record(1, "INSERT", new=invoice_image("ABC", "1", "5"))
    spec = parse_spec({**INVOICE_SPEC, "sort_key": None})
    result = effect(record, spec)
    assert result.item_token is None
    assert "'TransactionId'" in result.quarantine_reason and "sort_key" in result.quarantine_reason


def test_filter_entry_and_exit():
    pending_to_paid = stream_record(
        8, "MODIFY", old=order("o1", "a", "10", "PENDING"), new=order("o1", "a", "10"), keys=("OrderId",)
    )
    entered = effect(pending_to_paid, ORDERS_SPEC)
    assert entered.removed is None and entered.added.numbers["Revenue"] == 10
    refunded = stream_record(
        9, "MODIFY", old=order("o1", "a", "10"), new=order("o1", "a", "10", "REFUND"), keys=("OrderId",)
    )
    left = effect(refunded, ORDERS_SPEC)
    assert left.added is None and left.removed.numbers["Revenue"] == 10


@pytest.mark.parametrize("status", ["PAID", ["PAID"], 1], ids=["text", "list", "number"])
def test_a_filter_attribute_that_is_not_a_typed_value_fails_the_filter(status):
    """Not a crash of the whole batch: like a value of another type, it equals none of the filter's."""
    image = {**order("o1", "a", "10"), "Status": status}
    result = effect(stream_record(1, "INSERT", new=image, keys=("OrderId",)), ORDERS_SPEC)
    assert result.added is None and result.quarantine_reason is None


def test_numeric_group_keys_are_normalised():
    spec = parse_spec({"partition_key": "Id", "measures": [{"name": "C", "op": "count"}]})
    one = effect(stream_record(1, "INSERT", new={"Id": {"N": "1.0"}}, keys=("Id",)), spec)
    other = effect(stream_record(2, "INSERT", new={"Id": {"N": "1"}}, keys=("Id",)), spec)
    assert one.added.group_token == other.added.group_token == "N:1"
    assert one.added.group_value == {"N": "1"}


def test_numeric_keys_of_38_digits_stay_distinct_and_exact():
    """Normalising in Python's default context rounds at 28 digits: two items would share one identity
    (one idempotency entry, so one item's records skipped as the other's) and one rounded group."""
    spec = parse_spec({"partition_key": "Id", "measures": [{"name": "C", "op": "count"}]})
    low, high = "12345678901234567890123456789012345678", "12345678901234567890123456789012345679"
    one = effect(stream_record(1, "INSERT", new={"Id": {"N": low}}, keys=("Id",)), spec)
    other = effect(stream_record(2, "INSERT", new={"Id": {"N": high}}, keys=("Id",)), spec)
    assert one.item_token != other.item_token
    assert (one.added.group_token, other.added.group_token) == (f"N:{low}", f"N:{high}")
    assert one.added.group_value == {"N": low}
    tiny = effect(
        stream_record(3, "INSERT", new={"Id": {"N": "1.234567890123456789012345678901234567E-130"}}, keys=("Id",)), spec
    )
    assert tiny.added.group_value["N"].endswith("1234567890123456789012345678901234567")


NUMBER_CHARACTERS = st.sampled_from("0123456789.+-eE _\u0663\uff15\u00b2\t")
"""Digits, points, signs, exponents, and what Decimal reads but DynamoDB never writes."""
NUMBER_TEXT = st.text(alphabet=NUMBER_CHARACTERS, max_size=12) | st.text(max_size=8)


@given(NUMBER_TEXT)
def test_parse_number_accepts_exactly_what_the_number_syntax_and_storage_rules_accept(text):
    """parse_number takes plain digits with at most one point without its regex: it must refuse and
    read exactly as the regex (NUMBER_SYNTAX) and DynamoDB's storage rules do, whatever the text."""
    try:
        expected = Decimal(text) if NUMBER_SYNTAX.fullmatch(text) else None
    except InvalidOperation:
        expected = None
    if expected is not None and storage_problem(expected):
        expected = None
    if expected is None:
        with pytest.raises(InvalidImage):
            parse_number(text, "Amount")
    else:
        parsed = parse_number(text, "Amount")
        assert parsed == expected and str(parsed) == str(expected)
