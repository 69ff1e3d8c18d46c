"""min, max and avg from a record to its writes: what an image contributes, what a record changes per
key, what the fold keeps per item, and the Put/Delete (ledger mode) or SET/REMOVE (single-source) built."""

import json
from decimal import Decimal

import pytest

from handler.contribution import extreme_value, image_contribution, record_effect
from handler.errors import ConfigError, InvalidImage
from handler.extremes import EXTREMES_ITEM, EXTREMES_KEY, extremes_key
from handler.fold import fold, is_noop, record_deltas
from handler.inline_store import InlineStore
from handler.planner import plan_batch
from handler.position import position_text
from handler.records import decode_record
from handler.spec import Extreme, MeasureOp, OrderedType, parse_spec
from handler.transaction import AggregateTarget, transaction
from handler.types import Delta, KeyPlan
from tests.conftest import stream_record

SPEC = parse_spec(
    {
        "partition_key": "OrderId",
        "group_by": "CustomerId",
        "measures": [
            {"name": "Largest", "op": "max", "attribute": "Amount"},
            {"name": "First", "op": "min", "attribute": "OrderDate", "type": "S"},
            {"name": "Mean", "op": "avg", "attribute": "Amount"},
        ],
    }
)
LARGEST = Extreme("Largest", MeasureOp.MAX, "Amount", OrderedType.NUMBER)
FIRST = Extreme("First", MeasureOp.MIN, "OrderDate", OrderedType.STRING)
TARGET = AggregateTarget("Agg", "Ledger", "CustomerId", "S:c1", {"S": "c1"}, extremes_table="Extremes")


def order(order_id="o1", customer="c1", amount="5", date="2026-11-28"):
    return {
        "OrderId": {"S": order_id},
        "CustomerId": {"S": customer},
        "Amount": {"N": amount},
        "OrderDate": {"S": date},
    }


def effect(name, old=None, new=None):
    return record_effect(SPEC, decode_record(stream_record(7, name, new=new, old=old, keys=("OrderId",)), 0))


def at(sequence: int) -> str:
    return position_text("2026-01-01T00:00:00.000", str(sequence))


def test_an_image_contributes_its_values_and_avg_its_sum_and_count():
    contribution = image_contribution(SPEC, order(amount="1.50"))
    assert contribution.extremes == {"Largest": {"N": "1.5"}, "First": {"S": "2026-11-28"}}
    assert contribution.numbers == {"Mean_sum": Decimal("1.50"), "Mean_count": 1}


@pytest.mark.parametrize(
    ("extreme", "value", "message"),
    [
        pytest.param(LARGEST, None, "'Amount' for measure 'Largest' is missing", id="missing"),
        pytest.param(LARGEST, {"S": "5"}, "must be of type N to compare, got type S", id="string-for-number"),
        pytest.param(FIRST, {"N": "5"}, "must be of type S to compare, got type N", id="number-for-string"),
        pytest.param(LARGEST, {"N": "NaN"}, "is not a number", id="nan"),
        pytest.param(LARGEST, {"N": "1" * 39}, "39 significant digits", id="too-many-digits"),
        pytest.param(FIRST, {"S": ""}, "1 to 1024 bytes", id="empty-string"),
        pytest.param(FIRST, {"S": "é" * 513}, "1 to 1024 bytes", id="over-a-sort-key"),
        pytest.param(FIRST, {"BOOL": True}, "got type BOOL", id="bool"),
        pytest.param(FIRST, "2026", "not a typed attribute value", id="untyped"),
    ],
)
def test_a_value_that_cannot_be_ordered_is_invalid_data(extreme, value, message):
    with pytest.raises(InvalidImage, match=message):
        extreme_value(extreme, value)


def test_the_longest_string_a_sort_key_holds_is_kept_as_it_is():
    assert extreme_value(FIRST, {"S": "é" * 512}) == {"S": "é" * 512}


def test_an_image_with_a_bad_min_max_value_contributes_nothing_and_is_quarantined():
    bad = effect("INSERT", new=order(date=""))
    assert bad.added is None and "for measure 'First'" in bad.quarantine_reason


def test_a_modify_that_is_written_writes_every_value_and_one_that_changes_nothing_writes_none():
    """Unchanged values are written too, so an item's entries exist once any record of it is applied:
    backfill seeds an item only while none is (its ledger entry absent)."""
    changed = effect("MODIFY", old=order(amount="5"), new=order(amount="7.0"))
    ((_, delta),) = record_deltas(0, at(1), 0, changed)
    assert delta.extremes == {"Largest": {"N": "7"}, "First": {"S": "2026-11-28"}}
    ((_, same),) = record_deltas(0, at(1), 0, effect("MODIFY", old=order(amount="5"), new=order(amount="5.00")))
    assert same.extremes == {} and is_noop(same), "5 and 5.00 are one number: nothing to write"


def test_a_move_deletes_the_entry_of_the_group_left_and_puts_one_in_the_group_entered():
    moved = effect("MODIFY", old=order(customer="c1"), new=order(customer="c2"))
    (left, left_delta), (entered, entered_delta) = record_deltas(0, at(1), 0, moved)
    assert (left.group_token, entered.group_token) == ("S:c1", "S:c2")
    assert left_delta.extremes == {"Largest": None, "First": None}
    assert entered_delta.extremes == {"Largest": {"N": "5"}, "First": {"S": "2026-11-28"}}
    ((_, removed),) = record_deltas(0, at(2), 0, effect("REMOVE", old=order()))
    assert removed.extremes == {"Largest": None, "First": None}


def test_the_fold_keeps_each_items_last_value_per_measure():
    deltas = [
        Delta(0, at(1), "S:o1", 0, {}, {}, {"Largest": {"N": "5"}, "First": {"S": "b"}}),
        Delta(1, at(1), "S:o2", 0, {}, {}, {"Largest": {"N": "9"}}),
        Delta(2, at(2), "S:o1", 0, {}, {}, {"Largest": {"N": "3"}}),
        Delta(3, at(2), "S:o2", 0, {}, {}, {"Largest": None}),
    ]
    assert fold(deltas).extremes == {
        "S:o1": {"Largest": {"N": "3"}, "First": {"S": "b"}},
        "S:o2": {"Largest": None},
    }


def test_the_ledger_transaction_puts_and_deletes_entries_beside_each_items_ledger_entry():
    deltas = [
        Delta(0, at(1), "S:o1", 0, {"Mean_sum": Decimal(7)}, {}, {"Largest": {"N": "5"}, "First": {"S": "a"}}),
        Delta(1, at(2), "S:o2", 0, {"Mean_sum": Decimal(-5)}, {}, {"Largest": None, "First": None}),
    ]
    built = transaction(TARGET, deltas)
    kinds = [next(iter(action)) for action in built.request["TransactItems"]]
    assert kinds == ["Update", "Update", "Put", "Put", "Update", "Delete", "Delete"]
    assert built.items == [None, "S:o1", "S:o1", "S:o1", "S:o2", "S:o2", "S:o2"]
    put = built.request["TransactItems"][2]["Put"]
    assert put["TableName"] == "Extremes" and "ConditionExpression" not in put
    assert put["Item"] == {
        "k": {"S": json.dumps(["S:c1", "Largest"], separators=(",", ":"))},
        "i": {"S": "S:o1"},
        "n": {"N": "5"},
    }
    assert built.request["TransactItems"][3]["Put"]["Item"]["s"] == {"S": "a"}
    delete = built.request["TransactItems"][6]["Delete"]
    assert delete["Key"] == {EXTREMES_KEY: {"S": extremes_key("S:c1", "First")}, EXTREMES_ITEM: {"S": "S:o2"}}


def test_a_min_max_without_an_extremes_table_is_refused_not_dropped():
    without = AggregateTarget("Agg", "Ledger", "CustomerId", "S:c1", {"S": "c1"})
    with pytest.raises(ConfigError, match="needs an extremes table"):
        transaction(without, [Delta(0, at(1), "S:o1", 0, {}, {}, {"Largest": {"N": "5"}})])


class Recording:
    def __init__(self):
        self.requests = []

    def update_item(self, **request):
        self.requests.append(request)
        return {}


def test_a_single_source_aggregate_sets_its_items_value_and_removes_it_when_the_item_stops_contributing():
    client = Recording()
    store = InlineStore(client, "Agg", "AccountId")
    store.apply(KeyPlan("S:a", {"S": "a"}, [Delta(0, at(1), "S:a", 0, {}, {}, {"Largest": {"N": "5"}})]))
    store.apply(KeyPlan("S:a", {"S": "a"}, [Delta(1, at(2), "S:a", 0, {}, {}, {"Largest": None})]))
    first, second = client.requests
    assert first["UpdateExpression"].startswith("SET #x0 = :x0, #p = :p")
    assert (first["ExpressionAttributeNames"]["#x0"], first["ExpressionAttributeValues"][":x0"]) == (
        "Largest",
        {"N": "5"},
    )
    assert second["UpdateExpression"] == "SET #p = :p REMOVE #x0" and second["ExpressionAttributeNames"]["#x0"] == (
        "Largest"
    )
    assert "ConditionExpression" in first and "ConditionExpression" in second


def test_both_paths_plan_min_max_alike_on_the_invoice_aggregation():
    """The fast path reads the invoice's LargestTransaction with the general path's rule."""
    spec = parse_spec(
        {"partition_key": "OrderId", "measures": [{"name": "Largest", "op": "max", "attribute": "Amount"}]}
    )
    records = [
        stream_record(1, "INSERT", new=order(amount="2.50"), keys=("OrderId",)),
        stream_record(2, "MODIFY", old=order(amount="2.50"), new=order(amount="2.5", date="x"), keys=("OrderId",)),
        stream_record(3, "REMOVE", old=order(amount="2.5"), keys=("OrderId",)),
    ]
    fast, general = plan_batch(spec, records, now=0), plan_batch(spec, records, now=0, fast=False)
    assert [d.extremes for d in fast.keys["S:o1"].deltas] == [{"Largest": {"N": "2.5"}}, {"Largest": None}]
    assert fast.keys["S:o1"].deltas == general.keys["S:o1"].deltas
