"""Reading files into rows, rows into items, and settling duplicates: pure (ops.load_plan, items, load_plan)."""

import pytest

from aggregations import INVOICE_AGGREGATION, ORDERS_AGGREGATION
from handler.spec import parse_spec
from ops.load_plan import UnreadableFile, plan_load, read_rows
from ops.text import numbered_lines

INVOICES = parse_spec(INVOICE_AGGREGATION)
HEADER = "InvoiceNumber,TransactionId,Amount,InvoiceDate\n"


def test_lines_end_at_newline_only():
    assert numbered_lines("a\u2028b\r\nc\rd\n\ne") == [(1, "a\u2028b"), (2, "c\rd"), (3, ""), (4, "e")]


def test_csv_rows_are_named_by_their_first_line():
    rows = list(read_rows(HEADER + '\nA,1,"2\n",d\nA,2,3,d\n', "csv"))
    assert [line for line, _ in rows] == [3, 5]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (HEADER + 'A,1,"5,d\nA,2,3,d\n', 2, "not valid CSV: unexpected end of data"),
        (HEADER + "A,1,1,d\rA,2,2,d\n", 2, "not valid CSV: new-line character seen in unquoted field"),
        (HEADER + "A,1," + "9" * 200_000 + ",d\n", 2, "not valid CSV: field larger than field limit"),
        ("A,B,A\n", 1, "the header names 'A' twice"),
    ],
)
def test_a_broken_csv_is_unreadable_as_a_whole(text, line, reason):
    with pytest.raises(UnreadableFile) as error:
        plan_load(INVOICES, text, "csv", strict=False)
    assert error.value.line == line and error.value.reason.startswith(reason)


def test_json_lines_refuse_what_json_does_not_allow():
    text = "\n".join(["[" * 100_000, '{"a": NaN}', '{"a": 1, "a": 2}', "\u2028", "  ", "7"])
    assert dict(read_rows(text, "jsonl")) == {
        1: "not valid JSON: nested too deeply",
        2: "not valid JSON: NaN is not a JSON number",
        3: "field 'a' appears twice",
        4: "not valid JSON: Expecting value (column 1)",
        6: "expected a JSON object, got Decimal",
    }


def test_items_are_refused_as_dynamodb_and_the_handler_would():
    rows = [
        '{"InvoiceNumber": "A", "TransactionId": "1", "Amount": 1, "InvoiceDate": null}',
        '{"InvoiceNumber": "A", "TransactionId": "' + "x" * 1025 + '", "Amount": 1, "InvoiceDate": "d"}',
        '{"InvoiceNumber": "A", "TransactionId": "3", "Amount": 1, "InvoiceDate": "d", "N": "' + "x" * 410_000 + '"}',
        '{"InvoiceNumber": "A", "TransactionId": "4", "Amount": 1, "InvoiceDate": {"L": 1}}',
        '{"InvoiceNumber": "", "TransactionId": "5", "Amount": 1, "InvoiceDate": "d"}',
    ]
    plan = plan_load(INVOICES, "\n".join(rows), "jsonl", strict=False)
    assert [(error.line, error.reason[:50]) for error in plan.errors] == [
        (1, "InvoiceDate must be a string, number or boolean, g"),
        (2, "TransactionId is 1025 bytes; DynamoDB allows at mo"),
        (3, "the item would be about 410048 bytes; DynamoDB all"),
        (4, "InvoiceDate must be a string, number or boolean, g"),
        (5, "InvoiceNumber must be a non-empty string"),
    ]


def test_group_values_the_handler_cannot_key_are_refused():
    orders = parse_spec({**ORDERS_AGGREGATION, "filter": None})
    rows = '{"OrderId": "1", "Amount": 1, "OrderDate": "d", "CustomerId": true}\n'
    plan = plan_load(orders, rows, "jsonl", strict=False)
    assert plan.errors[0].reason.startswith("the aggregator would count it invalid: attribute 'CustomerId'")


def test_duplicates_keep_the_last_row_or_refuse_the_file():
    text = HEADER + "A,1,1,d\nA,1,2,d\nB,1,3,d\nA,1,4,d\n"
    plan = plan_load(INVOICES, text, "csv", strict=False)
    assert [(row.line, row.item["Amount"]) for row in plan.rows] == [(4, {"N": "3"}), (5, {"N": "4"})]
    assert [(w.line, w.reason[:19]) for w in plan.warnings] == [(2, "same key as line 5 "), (3, "same key as line 5 ")]
    strict = plan_load(INVOICES, text, "csv", strict=True)
    assert strict.rows == [] and [error.line for error in strict.errors] == [3, 5]
    assert strict.errors[0].reason == "same key as line 2 (InvoiceNumber 'A', TransactionId '1')"
