"""The average on read, at its stated precision, and each measure read from an aggregate item."""

from decimal import Decimal

import pytest

from handler.errors import HandlerError
from handler.reading import average, read_measures
from handler.spec import parse_spec

LEDGER = parse_spec(
    {
        "partition_key": "OrderId",
        "group_by": "CustomerId",
        "measures": [
            {"name": "Revenue", "op": "sum", "attribute": "Amount"},
            {"name": "Mean", "op": "avg", "attribute": "Amount"},
            {"name": "Largest", "op": "max", "attribute": "Amount"},
            {"name": "Last", "op": "latest", "attribute": "OrderDate"},
        ],
    }
)
SINGLE = parse_spec({"partition_key": "AccountId", "measures": [{"name": "Top", "op": "max", "attribute": "Balance"}]})


def test_the_average_has_38_significant_digits_rounded_half_to_even():
    assert average(Decimal(1), Decimal(3)) == Decimal("0." + "3" * 38)
    assert average(Decimal(2), Decimal(3)) == Decimal("0." + "6" * 37 + "7")
    assert average(Decimal("1" * 37 + "25"), Decimal(1)) == Decimal("1" * 37 + "2E1"), "half to even: down to 2"
    assert average(Decimal("1" * 37 + "35"), Decimal(1)) == Decimal("1" * 37 + "4E1"), "half to even: up to 4"
    assert average(Decimal("10.50"), Decimal(2)) == Decimal("5.25")
    assert average(Decimal(0), Decimal(0)) is None and average(Decimal(5), Decimal(0)) is None


def test_each_measure_is_read_from_the_item_and_the_extremes_read():
    item = {
        "CustomerId": {"S": "c1"},
        "Revenue": {"N": "10"},
        "Mean_sum": {"N": "10"},
        "Mean_count": {"N": "4"},
        "Last": {"S": "2026-11-28"},
    }
    values = read_measures(LEDGER, item, {"Largest": {"N": "7"}})
    assert values == {"Revenue": {"N": "10"}, "Mean": {"N": "2.5"}, "Largest": {"N": "7"}, "Last": {"S": "2026-11-28"}}


def test_an_average_of_nothing_and_a_missing_extreme_are_none():
    item = {"Revenue": {"N": "0"}, "Mean_sum": {"N": "0"}, "Mean_count": {"N": "0"}}
    assert read_measures(LEDGER, item, {"Largest": None}) == {
        "Revenue": {"N": "0"},
        "Mean": None,
        "Largest": None,
        "Last": None,
    }


def test_a_ledger_min_max_must_be_read_from_the_extremes_table_first():
    with pytest.raises(HandlerError, match="'Largest' lives in the extremes table"):
        read_measures(LEDGER, {})


def test_a_single_source_min_max_is_the_items_own():
    assert read_measures(SINGLE, {"Top": {"N": "3"}}) == {"Top": {"N": "3"}}
    assert read_measures(SINGLE, {}) == {"Top": None}
