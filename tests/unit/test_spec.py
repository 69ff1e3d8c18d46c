import json
from decimal import Decimal

import pytest

from handler.spec import (
    MAX_EXTREMES,
    MAX_MEASURES,
    Extreme,
    MeasureOp,
    OrderedType,
    SpecError,
    TtlDeletes,
    parse_spec,
)
from tests.conftest import INVOICE_SPEC


def test_invoice_spec_defaults_group_by_to_partition_key():
    spec = parse_spec(INVOICE_SPEC)
    assert spec.group_by == "InvoiceNumber"
    assert [m.op for m in spec.measures] == [MeasureOp.SUM, MeasureOp.COUNT, MeasureOp.LATEST, MeasureOp.MAX]
    assert spec.ttl_deletes is TtlDeletes.SUBTRACT


def test_canonical_json_round_trips():
    spec = parse_spec({**INVOICE_SPEC, "filter": {"attribute": "Status", "values": ["PAID", 3, 2.5, True]}})
    assert parse_spec(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"measures": [{"name": "X", "op": "median", "attribute": "A"}]}, r"measures\[0\]\.op", id="unknown-op"
        ),
        pytest.param(
            {"measures": [{"name": "X", "op": "sum"}]}, r"measures\[0\]\.attribute is required", id="sum-no-attr"
        ),
        pytest.param({"measures": [{"name": "X", "op": "latest"}]}, r"measures\[0\]\.attribute", id="latest-no-attr"),
        pytest.param({"measures": [{"name": "X", "op": "count", "attribute": "A"}]}, "omitted", id="count-with-attr"),
        pytest.param(
            {"measures": [{"name": "InvoiceNumber", "op": "count"}]}, "collides with group_by", id="name-is-group"
        ),
        pytest.param({"measures": [{"name": "_wmTotal", "op": "count"}]}, "reserved", id="name-internal"),
        pytest.param(
            {"measures": [{"name": "N", "op": "count"}, {"name": "N", "op": "count"}]}, "used twice", id="duplicate"
        ),
        pytest.param({"measures": []}, "measures must be", id="no-measures"),
        pytest.param({"measures": [{"name": "a b", "op": "count"}]}, r"measures\[0\]\.name", id="bad-name"),
        pytest.param({"filter": {"attribute": "S"}}, "filter must", id="filter-no-values"),
        pytest.param({"filter": {"attribute": "S", "values": [None]}}, "filter.values", id="filter-null"),
        pytest.param({"ttl_deletes": "keep"}, "ttl_deletes", id="ttl-mode"),
        pytest.param({"sort_key": "InvoiceNumber"}, "sort_key must differ", id="sort-is-partition"),
        pytest.param({"partition_key": ""}, "partition_key", id="no-partition"),
        pytest.param({"colour": "red"}, "unknown aggregation field", id="unknown-field"),
    ],
)
def test_invalid_specs_name_the_field(change, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**INVOICE_SPEC, **change})


def test_invalid_json_is_reported():
    with pytest.raises(SpecError, match="not valid JSON"):
        parse_spec("{nope")


BASE_JSON = '{"partition_key": "A", "measures": [{"name": "C", "op": "count"}]'
"""A spec's JSON without its closing brace, for tests that add a field."""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(
            '{"partition_key": "A", "partition_key": "B", "measures": []}', "'partition_key' twice", id="twice"
        ),
        pytest.param(
            BASE_JSON + ', "filter": {"attribute": "X", "values": [NaN]}}',
            "NaN",
            id="nan",
        ),
        pytest.param(
            BASE_JSON + ', "filter": {"attribute": "X", "values": [1e300]}}',
            "larger than DynamoDB's largest number",
            id="out-of-range",
        ),
    ],
)
def test_spec_json_that_would_be_misread_is_refused(raw, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(raw)


def test_filter_numbers_stay_exact_through_the_lambda_environment():
    """A JSON float would round 12345678901234567.5 to 12345678901234568."""
    raw = BASE_JSON + ', "filter": {"attribute": "X", "values": [12345678901234567.5]}}'
    spec = parse_spec(raw)
    assert spec.item_filter.values == {("N", Decimal("12345678901234567.5"))}
    assert parse_spec(spec.to_json()) == spec
    typed = parse_spec({**json.loads(raw), "filter": {"attribute": "X", "values": [{"N": "1.50"}, {"S": "1.50"}]}})
    assert typed.item_filter.values == {("N", Decimal("1.5")), ("S", "1.50")}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"measures": [{"name": "Revenue\n", "op": "count"}]}, "measures\\[0\\].name", id="newline-name"),
        pytest.param({"filter": {"attribute": "X", "values": b"ab"}}, "non-empty list", id="bytes-values"),
        pytest.param({"partition_key": "k" * 256}, "255 bytes", id="long-key-name"),
        pytest.param({"filter": {"attribute": "X", "values": [float("inf")]}}, "not a finite number", id="infinity"),
    ],
)
def test_names_and_values_the_handler_would_mishandle_are_refused(change, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({"partition_key": "A", "measures": [{"name": "C", "op": "count"}], **change})


AMOUNT_SPEC = {"partition_key": "OrderId", "group_by": "CustomerId"}
"""A ledger aggregation (many orders per customer) that tests add measures to."""


def with_measures(*measures):
    return {**AMOUNT_SPEC, "measures": list(measures)}


def test_min_max_avg_read_their_type_and_name_what_they_store():
    spec = parse_spec(
        with_measures(
            {"name": "Largest", "op": "max", "attribute": "Amount"},
            {"name": "First", "op": "min", "attribute": "OrderDate", "type": "S"},
            {"name": "Mean", "op": "avg", "attribute": "Amount"},
            {"name": "Revenue", "op": "sum", "attribute": "Amount"},
            {"name": "Orders", "op": "count"},
        )
    )
    assert spec.extremes == (
        Extreme("Largest", MeasureOp.MAX, "Amount", OrderedType.NUMBER),
        Extreme("First", MeasureOp.MIN, "OrderDate", OrderedType.STRING),
    )
    assert spec.averages == (("Mean", "Amount", "Mean_sum", "Mean_count"),)
    assert spec.stored_numbers == ("Mean_sum", "Mean_count", "Revenue", "Orders")
    assert spec.uses_extremes_table
    assert parse_spec(spec.to_json()) == spec
    assert '"type":"N"' in spec.to_json(), "the default type is written, so the Lambda reads what was checked"


def test_a_single_source_min_max_needs_no_extremes_table():
    spec = parse_spec({"partition_key": "A", "measures": [{"name": "M", "op": "max", "attribute": "X"}]})
    assert spec.single_source and spec.extremes and not spec.uses_extremes_table
    assert not parse_spec(with_measures({"name": "C", "op": "count"})).uses_extremes_table


@pytest.mark.parametrize("kind", ["B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"])
@pytest.mark.parametrize("op", ["min", "max"])
def test_min_max_refuse_a_type_that_cannot_be_ordered_naming_the_measure(op, kind):
    with pytest.raises(SpecError, match=rf"measures\[0\] \('Extreme'\)\.type '{kind}' cannot be ordered"):
        parse_spec(with_measures({"name": "Extreme", "op": op, "attribute": "A", "type": kind}))


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        pytest.param(
            {"name": "X", "op": "min"}, r"measures\[0\]\.attribute is required for op 'min'", id="min-no-attr"
        ),
        pytest.param(
            {"name": "X", "op": "max"}, r"measures\[0\]\.attribute is required for op 'max'", id="max-no-attr"
        ),
        pytest.param(
            {"name": "X", "op": "avg"}, r"measures\[0\]\.attribute is required for op 'avg'", id="avg-no-attr"
        ),
        pytest.param(
            {"name": "X", "op": "max", "attribute": "A", "type": "n"}, "is not a DynamoDB type", id="lowercase-type"
        ),
        pytest.param({"name": "X", "op": "max", "attribute": "A", "type": None}, "is not a DynamoDB type", id="null"),
        pytest.param(
            {"name": "X", "op": "avg", "attribute": "A", "type": "N"}, "type is only for 'min' and 'max'", id="avg-type"
        ),
        pytest.param(
            {"name": "X", "op": "sum", "attribute": "A", "type": "N"}, "type is only for 'min' and 'max'", id="sum-type"
        ),
        pytest.param(
            {"name": "X", "op": "latest", "attribute": "A", "type": "S"}, "type is only for", id="latest-type"
        ),
        pytest.param({"name": "X", "op": "count", "type": "N"}, "type is only for", id="count-type"),
    ],
)
def test_new_measures_refuse_what_they_cannot_use(measure, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(with_measures(measure))


@pytest.mark.parametrize(
    ("measures", "message"),
    [
        pytest.param(
            [{"name": "Mean", "op": "avg", "attribute": "A"}, {"name": "Mean_sum", "op": "count"}],
            "'Mean_sum' collides with measure 'Mean''s 'Mean_sum'",
            id="count-takes-avg-sum",
        ),
        pytest.param(
            [{"name": "Mean_count", "op": "count"}, {"name": "Mean", "op": "avg", "attribute": "A"}],
            "'Mean' stores 'Mean_count', which collides with measure 'Mean_count'",
            id="avg-count-taken",
        ),
        pytest.param(
            [{"name": "Mean", "op": "avg", "attribute": "A"}, {"name": "Mean", "op": "max", "attribute": "A"}],
            "used twice",
            id="avg-name-twice",
        ),
        pytest.param(
            [{"name": "CustomerId", "op": "avg", "attribute": "A"}], "collides with group_by", id="avg-is-group"
        ),
        pytest.param(
            [{"name": "CustomerId", "op": "max", "attribute": "A"}], "collides with group_by", id="max-is-group"
        ),
        pytest.param(
            [{"name": "M" * 252, "op": "avg", "attribute": "A"}], "longer than 255 characters", id="derived-too-long"
        ),
    ],
)
def test_derived_names_collide_with_nothing(measures, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(with_measures(*measures))


def test_avg_whose_stored_name_is_the_group_key_is_refused():
    with pytest.raises(SpecError, match="'Amount' stores 'Amount_sum', which collides with group_by"):
        parse_spec(
            {**AMOUNT_SPEC, "group_by": "Amount_sum", "measures": [{"name": "Amount", "op": "avg", "attribute": "A"}]}
        )


def test_min_max_measures_are_capped():
    extremes = [{"name": f"M{i}", "op": "max", "attribute": "A"} for i in range(MAX_EXTREMES)]
    assert len(parse_spec(with_measures(*extremes)).extremes) == MAX_EXTREMES
    with pytest.raises(SpecError, match=f"9 min/max measures; at most {MAX_EXTREMES}"):
        parse_spec(with_measures(*extremes, {"name": "One", "op": "min", "attribute": "A"}))


def test_stored_attributes_are_capped_as_measures_are():
    """An avg stores two numbers: the UpdateExpression's bound is on what is stored."""
    averages = [{"name": f"A{i}", "op": "avg", "attribute": "A"} for i in range(MAX_MEASURES // 2)]
    assert len(parse_spec(with_measures(*averages)).stored_numbers) == MAX_MEASURES
    with pytest.raises(SpecError, match=f"store {MAX_MEASURES + 1} attributes"):
        parse_spec(with_measures(*averages, {"name": "C", "op": "count"}))
