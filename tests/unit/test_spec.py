import json
from decimal import Decimal

import pytest

from handler.spec import MeasureOp, SpecError, TtlDeletes, parse_spec
from tests.conftest import INVOICE_SPEC


def test_invoice_spec_defaults_group_by_to_partition_key():
    spec = parse_spec(INVOICE_SPEC)
    assert spec.group_by == "InvoiceNumber"
    assert [m.op for m in spec.measures] == [MeasureOp.SUM, MeasureOp.COUNT, MeasureOp.LATEST]
    assert spec.ttl_deletes is TtlDeletes.SUBTRACT


def test_canonical_json_round_trips():
    spec = parse_spec({**INVOICE_SPEC, "filter": {"attribute": "Status", "values": ["PAID", 3, 2.5, True]}})
    assert parse_spec(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"measures": [{"name": "X", "op": "avg", "attribute": "A"}]}, r"measures\[0\]\.op", id="unknown-op"
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
