"""min/max recounted from source images and compared entry by entry with the extremes table: pure."""

from decimal import Decimal

from handler.position import item_token
from handler.spec import MeasureOp, parse_spec
from ops.extremes_recount import (
    compare_entries,
    entry_writes,
    extreme_json,
    extreme_of,
    recount_entries,
    stored_entries,
)

SPEC = parse_spec(
    {
        "partition_key": "InvoiceNumber",
        "sort_key": "TransactionId",
        "measures": [
            {"name": "Total", "op": "sum", "attribute": "Amount"},
            {"name": "Largest", "op": "max", "attribute": "Amount"},
            {"name": "Smallest", "op": "min", "attribute": "Amount"},
            {"name": "FirstDate", "op": "min", "attribute": "InvoiceDate", "type": "S"},
        ],
    }
)


def image(invoice, transaction, amount, date="2026-11-28"):
    return {
        "InvoiceNumber": {"S": invoice},
        "TransactionId": {"S": transaction},
        "Amount": {"N": amount},
        "InvoiceDate": {"S": date},
    }


def entry(invoice, measure, item, value):
    kind = "s" if "S" in value else "n"
    return {"k": {"S": f'["S:{invoice}","{measure}"]'}, "i": {"S": item}, kind: value}


def item(transaction):
    """The entry's sort key: the source item's token, as the handler's ledger writes it."""
    return item_token("S:INV", "S:" + transaction)


def test_numbers_compare_as_decimal_and_strings_by_utf8_bytes():
    assert extreme_of(MeasureOp.MAX, {"a": {"N": "9"}, "b": {"N": "10"}, "c": {"N": "-11"}}) == {"N": "10"}
    assert extreme_of(MeasureOp.MIN, {"a": {"N": "9"}, "b": {"N": "10"}, "c": {"N": "-11"}}) == {"N": "-11"}
    # by bytes, as a DynamoDB string sort key: no locale, case or accent folding
    assert extreme_of(MeasureOp.MIN, {"a": {"S": "a"}, "b": {"S": "B"}, "c": {"S": "\u00e9"}}) == {"S": "B"}
    assert extreme_of(MeasureOp.MAX, {"a": {"S": "z"}, "b": {"S": "\u00e9"}, "c": {"S": "\U0001f600"}}) == {
        "S": "\U0001f600"
    }
    assert extreme_of(MeasureOp.MIN, {"a": {"S": "2026-11-28"}, "b": {"S": "2026-02-01"}}) == {"S": "2026-02-01"}
    assert extreme_of(MeasureOp.MIN, {}) is None


def test_recount_keeps_one_entry_per_contributing_item_and_measure():
    images = [image("INV", "1", "30", "2026-11-28"), image("INV", "2", "5", "2026-11-01"), image("X", "1", "7")]
    images.append({"InvoiceNumber": {"S": "INV"}, "TransactionId": {"S": "3"}, "Amount": {"S": "99"}})  # invalid
    entries = recount_entries(SPEC, images)
    inv = entries[("S:INV", "Largest")]
    assert inv == {item("1"): {"N": "30"}, item("2"): {"N": "5"}}
    assert entries[("S:INV", "FirstDate")] == {item("1"): {"S": "2026-11-28"}, item("2"): {"S": "2026-11-01"}}
    assert set(entries) == {(f"S:{g}", m) for g in ("INV", "X") for m in ("Largest", "Smallest", "FirstDate")}


def test_no_drift_when_the_table_holds_exactly_the_recount_whatever_the_number_spelling():
    expected = recount_entries(SPEC, [image("INV", "1", "1.5"), image("INV", "2", "3")])
    stored = stored_entries(
        SPEC,
        [
            entry("INV", m, item(t), v)
            for m, values in (("Largest", ("1.50", "3")), ("Smallest", ("1.5", "3.0")))
            for t, v in zip(("1", "2"), ({"N": values[0]}, {"N": values[1]}), strict=True)
        ]
        + [entry("INV", "FirstDate", item(t), {"S": "2026-11-28"}) for t in ("1", "2")],
    )
    assert compare_entries(SPEC, expected, stored) == []


def test_a_stray_entry_of_the_removed_maximum_is_drift_and_its_repair_deletes_it():
    expected = recount_entries(SPEC, [image("INV", "2", "5")])
    stored = stored_entries(
        SPEC,
        [entry("INV", "Largest", item("1"), {"N": "30"}), entry("INV", "Largest", item("2"), {"N": "5"})],
    )
    drifts = [d for d in compare_entries(SPEC, expected, stored) if d.measure == "Largest"]
    (drift,) = drifts
    assert drift.expected == {"N": "5"} and drift.actual == {"N": "30"} and drift.extreme_wrong
    assert drift.deletes == {item("1"): {"N": "30"}} and not drift.puts
    (write,) = entry_writes("ext", drift)
    assert write == {
        "op": "delete",
        "request": {
            "TableName": "ext",
            "Key": {"k": {"S": '["S:INV","Largest"]'}, "i": {"S": item("1")}},
            "ConditionExpression": "#v = :v",
            "ExpressionAttributeNames": {"#v": "n"},
            "ExpressionAttributeValues": {":v": {"N": "30"}},
        },
    }


def test_a_missing_entry_behind_a_right_extreme_is_still_drift():
    """The max shows right, but the next one is missing: removing the max would show a wrong one."""
    expected = recount_entries(SPEC, [image("INV", "1", "30"), image("INV", "2", "5")])
    stored = stored_entries(SPEC, [entry("INV", "Largest", item("1"), {"N": "30"})])
    (drift,) = [d for d in compare_entries(SPEC, expected, stored) if d.measure == "Largest"]
    assert not drift.extreme_wrong and drift.missing == 1 and not drift.wrong
    (write,) = entry_writes("ext", drift)
    assert write["op"] == "put"
    assert write["request"]["Item"] == {
        "k": {"S": '["S:INV","Largest"]'},
        "i": {"S": item("2")},
        "n": {"N": "5"},
    }
    assert write["request"]["ConditionExpression"] == "attribute_not_exists(#i)"


def test_a_wrong_value_is_put_conditional_on_the_value_read_in_fixed_point():
    expected = recount_entries(SPEC, [image("INV", "1", "1E+2")])
    stored = stored_entries(SPEC, [entry("INV", "Largest", item("1"), {"N": "30"})])
    (drift,) = [d for d in compare_entries(SPEC, expected, stored) if d.measure == "Largest"]
    assert drift.wrong == {item("1")} and drift.missing == 0
    assert drift.expected == {"N": "100"} and extreme_json(drift.expected) == "100"  # the handler's key text
    (write,) = entry_writes("ext", drift)
    assert write["request"]["Item"]["n"] == {"N": "100"}  # moto answers exponent forms with HTTP 500
    assert write["request"]["ExpressionAttributeValues"] == {":v": {"N": "30"}}


def test_entries_of_no_declared_measure_or_an_unreadable_key_are_stray_and_deleted_where_they_are():
    stored = stored_entries(
        SPEC,
        [
            entry("INV", "Dropped", item("1"), {"N": "1"}),
            {"k": {"S": "not json"}, "i": {"S": "x"}, "n": {"N": "2"}},
            {"k": {"S": '["S:INV", "Largest"]'}, "i": {"S": "y"}, "n": {"N": "3"}},  # spaces: not extremes_key's
        ],
    )
    drifts = compare_entries(SPEC, {}, stored)
    keys = sorted(w["request"]["Key"]["k"]["S"] for d in drifts for w in entry_writes("ext", d))
    assert keys == sorted(['["S:INV","Dropped"]', "not json", '["S:INV", "Largest"]'])
    assert all(w["op"] == "delete" for d in drifts for w in entry_writes("ext", d))


def test_an_entry_without_a_value_is_wrong_and_its_put_is_conditional_on_it_existing():
    expected = recount_entries(SPEC, [image("INV", "1", "30")])
    stored = stored_entries(SPEC, [{"k": {"S": '["S:INV","Largest"]'}, "i": {"S": item("1")}}])
    (drift,) = [d for d in compare_entries(SPEC, expected, stored) if d.measure == "Largest"]
    (write,) = entry_writes("ext", drift)
    assert write["request"]["ConditionExpression"] == "attribute_exists(#i)"
    assert Decimal(write["request"]["Item"]["n"]["N"]) == 30


def test_an_image_whose_extreme_attribute_is_missing_or_mistyped_contributes_no_entry():
    dated = image("INV", "1", "30")
    undated = {k: v for k, v in image("INV", "2", "40").items() if k != "InvoiceDate"}
    numbered = {**image("INV", "3", "50"), "InvoiceDate": {"N": "20261128"}}
    entries = recount_entries(SPEC, [dated, undated, numbered])
    assert entries[("S:INV", "Largest")] == {item("1"): {"N": "30"}}
