"""Recomputing, comparing and repairing exactly, whatever type a measure is stored with: pure."""

import decimal
from decimal import Decimal

import pytest
from rich.console import Console

from aggregations import INVOICE_AGGREGATION
from handler.spec import parse_spec
from ops.drift_table import drift_table, measure_totals
from ops.errors import CommandError
from ops.recompute import recompute, unstorable_totals
from ops.reconcile import Drift, Report, actual_totals, compare
from ops.repair import repair_request
from ops.schema import aggregate_problem, source_problem

SPEC = parse_spec(INVOICE_AGGREGATION)


def image(invoice, transaction, amount):
    return {
        "InvoiceNumber": {"S": invoice},
        "TransactionId": {"S": transaction},
        "Amount": {"N": amount},
        "InvoiceDate": {"S": "d"},
    }


def test_recompute_never_uses_the_default_context():
    with decimal.localcontext(decimal.Context(prec=5)):
        totals, _ = recompute(SPEC, [image("A", "1", "1234567890123456789012345678.91"), image("A", "2", "0.09")])
    assert totals["S:A"].numbers["Total"] == Decimal("1234567890123456789012345679.00")


def test_totals_dynamodb_cannot_store_are_set_apart():
    big = "12345678901234567890123456789012345678"
    images = [image("A", "1", big), image("A", "2", "0.1"), image("B", "1", "1E+125"), image("B", "2", "1E-130")]
    totals, _ = recompute(SPEC, images)
    assert "Total" not in totals["S:A"].numbers and totals["S:A"].numbers["TransactionCount"] == 2
    assert unstorable_totals(totals) == [
        f"S:A Total: the exact total {big}.1 has 39 significant digits; DynamoDB keeps 38",
        "S:B Total: the exact total needs more than 78 digits",
    ]
    assert compare(SPEC, totals, {}) == [
        Drift("S:A", {"S": "A"}, "TransactionCount", Decimal(2), None),
        Drift("S:B", {"S": "B"}, "TransactionCount", Decimal(2), None),
    ]


def test_a_measure_stored_as_a_string_drifts_and_its_repair_matches_the_string():
    expected, _ = recompute(SPEC, [image("A", "1", "30")])
    stored = {"InvoiceNumber": {"S": "A"}, "Total": {"S": "30"}, "TransactionCount": {"N": "1"}, "_wmp": {"S": "x"}}
    actual = actual_totals(SPEC, "agg", [stored])
    drifts = compare(SPEC, expected, actual)
    assert drifts == [Drift("S:A", {"S": "A"}, "Total", Decimal(30), {"S": "30"})]
    assert drifts[0].actual is None and drifts[0].difference is None
    request = repair_request(SPEC, "agg", drifts, actual["S:A"])
    values = request["ExpressionAttributeValues"]
    assert request["ConditionExpression"] == "#m0 = :om0 AND #k1 = :ok1 AND #w0 = :w0"
    assert values[":m0"] == {"N": "30"} and values[":om0"] == {"S": "30"} and values[":ok1"] == {"N": "1"}


def test_an_absent_measure_is_conditioned_absent():
    actual = actual_totals(SPEC, "agg", [{"InvoiceNumber": {"S": "A"}, "Total": {"N": "5"}}])
    drifts = compare(SPEC, recompute(SPEC, [image("A", "1", "5")])[0], actual)
    request = repair_request(SPEC, "agg", drifts, actual["S:A"])
    assert request["ConditionExpression"] == "#k0 = :ok0 AND attribute_not_exists(#m0)"


def test_an_aggregate_item_without_the_group_by_key_is_a_spec_mismatch():
    with pytest.raises(CommandError) as error:
        actual_totals(SPEC, "agg", [{"Customer": {"S": "A"}}])
    assert str(error.value) == "table agg has an item without spec group_by 'InvoiceNumber'"


def test_drift_totals_are_per_measure_and_exact():
    drifts = [
        Drift("S:A", {"S": "A"}, "Total", Decimal("0.01"), {"N": "1234567890123456789012345678.91"}),
        Drift("S:B", {"S": "B"}, "Total", Decimal(0), {"N": "0.01"}),
        Drift("S:B", {"S": "B"}, "TransactionCount", Decimal(2), {"N": "1"}),
        Drift("S:C", {"S": "[bold]C"}, "TransactionCount", Decimal(2), {"BOOL": True}),
    ]
    assert measure_totals(drifts) == {"Total": Decimal("1234567890123456789012345678.91"), "TransactionCount": None}
    console = Console(record=True, width=200)
    console.print(drift_table(Report(drifts, 3, 0)))
    text = console.export_text()
    assert "BOOL True" in text and "—" in text and "1234567890123456789012345678.91" in text


def test_spec_and_table_mismatches_name_the_field_and_the_table():
    source = {"HASH": ("InvoiceNumber", "S"), "RANGE": ("TransactionId", "N")}
    customer = parse_spec({**INVOICE_AGGREGATION, "partition_key": "Customer"})
    assert source_problem(customer, "src", source) == (
        "spec partition_key 'Customer' is not the partition key of table src (it is 'InvoiceNumber')"
    )
    assert source_problem(SPEC, "src", source) is None
    assert source_problem(SPEC, "src", source, string_keys=True) == (
        "table src's key 'TransactionId' has type N: load writes keys as strings (S)"
    )
    assert aggregate_problem(SPEC, "agg", {"HASH": ("InvoiceNumber", "S"), "RANGE": ("x", "S")}) == (
        "table agg has the sort key 'x': an aggregate table is keyed by group_by alone"
    )
