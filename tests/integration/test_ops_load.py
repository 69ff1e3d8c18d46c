"""`load` against a moto server: hostile files (issue 9, items 3 to 6 and 11).

Every test checks both what the operator reads and what is in the table afterwards.
"""

import json
from decimal import Decimal

import pytest

from handler.spec import parse_spec
from tests.conftest import INVOICE_SPEC, new_aggregator
from tests.integration.test_cli import cli

pytestmark = pytest.mark.integration

HEADER = "InvoiceNumber,TransactionId,Amount,InvoiceDate\n"


@pytest.fixture
def invoices(endpoint):
    return new_aggregator(endpoint, parse_spec(INVOICE_SPEC))


def source_items(endpoint, aggregator):
    items = endpoint.client("dynamodb").scan(TableName=aggregator.source_table, ConsistentRead=True)["Items"]
    return {(i["InvoiceNumber"]["S"], i["TransactionId"]["S"]): i for i in items}


def jsonl_row(transaction, amount):
    return f'{{"InvoiceNumber": "A", "TransactionId": "{transaction}", "Amount": {amount}, "InvoiceDate": "d"}}\n'


def test_strict_load_validates_dynamodb_number_range_before_writing(endpoint, invoices, tmp_path):
    """Item 3: a value DynamoDB refuses used to fail the write mid-file, with 27 of 30 rows loaded."""
    data = tmp_path / "tx.jsonl"
    data.write_text("".join(jsonl_row(n, "1E-131" if n == 28 else "1.5") for n in range(1, 31)))
    code, output = cli(endpoint, invoices, "load", str(data), "--strict")
    assert code == 1
    assert "tx.jsonl:28: Amount 1E-131 is closer to zero than DynamoDB's smallest number 1E-130" in output
    assert "--strict: 1 bad row(s), nothing loaded" in output
    assert "ValidationException" not in output and source_items(endpoint, invoices) == {}


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1E+126", "is larger than DynamoDB's largest number"),
        ("-1E+126", "is larger than DynamoDB's largest number"),
        ("-1E-131", "is closer to zero than DynamoDB's smallest number"),
        ("1234567890123456789012345678901234567.89", "has 39 significant digits; DynamoDB keeps 38"),
    ],
)
def test_every_number_out_of_dynamodb_range_is_rejected_by_line(endpoint, invoices, tmp_path, amount, reason):
    data = tmp_path / "tx.csv"
    data.write_text(f"{HEADER}A,1,1,d\nA,2,{amount},d\n")
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1 and f"tx.csv:3: Amount {amount} {reason}" in output
    assert "loaded 1 row(s), rejected 1" in output and list(source_items(endpoint, invoices)) == [("A", "1")]


def test_the_extremes_dynamodb_accepts_load(endpoint, invoices, tmp_path):
    """The largest magnitude goes in a field that is not summed: as fixed-point text it has 126
    digits, which the handler's ``parse_number`` counts as significant (see the report on issue 9)."""
    data = tmp_path / "tx.jsonl"
    largest = "-9.9999999999999999999999999999999999999E+125"
    data.write_text(
        jsonl_row(1, '"1E-130"')
        + f'{{"InvoiceNumber": "A", "TransactionId": "2", "Amount": 2, "InvoiceDate": "d", "Other": {largest}}}\n'
        + jsonl_row(3, '"0E-999"')
        + jsonl_row(4, "1.50000000000000000000000000000000000000000")
    )
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 0 and "loaded 4 row(s), rejected 0" in output
    items = source_items(endpoint, invoices)
    assert Decimal(items[("A", "1")]["Amount"]["N"]) == Decimal("1E-130")
    assert Decimal(items[("A", "2")]["Other"]["N"]) == Decimal(largest)
    assert items[("A", "3")]["Amount"] == {"N": "0"} and items[("A", "4")]["Amount"] == {"N": "1.5"}


def test_duplicate_keys_load_the_last_row_with_a_warning(endpoint, invoices, tmp_path):
    """Item 4: the same (InvoiceNumber, TransactionId) twice used to report `rejected 0` silently."""
    data = tmp_path / "tx.csv"
    data.write_text(f"{HEADER}ABC,1,100,d\nABC,2,5,d\nABC,1,150,d\nXYZ,1,1,d\n")
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 0
    assert "tx.csv:2: same key as line 4 (InvoiceNumber 'ABC', TransactionId '1'): line 4 is loaded instead" in output
    assert "loaded 3 row(s), rejected 0, 1 duplicate row(s) skipped" in output
    assert source_items(endpoint, invoices)[("ABC", "1")]["Amount"] == {"N": "150"}


def test_duplicate_keys_under_strict_load_nothing(endpoint, invoices, tmp_path):
    data = tmp_path / "tx.csv"
    data.write_text(f"{HEADER}ABC,1,100,d\nABC,2,5,d\nABC,1,150,d\n")
    code, output = cli(endpoint, invoices, "load", str(data), "--strict")
    assert code == 1
    assert "tx.csv:4: same key as line 2 (InvoiceNumber 'ABC', TransactionId '1')" in output
    assert "--strict: 1 bad row(s), nothing loaded" in output and source_items(endpoint, invoices) == {}


def test_line_numbers_count_newlines_only(endpoint, invoices, tmp_path):
    """Item 5: a raw U+2028 inside a JSON string is valid JSON, and no line break."""
    data = tmp_path / "tx.jsonl"
    rows = [
        '{"InvoiceNumber": "A", "TransactionId": "1", "Amount": 1, "InvoiceDate": "d", "Note": "a\u2028b"}',
        '{"InvoiceNumber": "A", "TransactionId": "2", "Amount": "x", "InvoiceDate": "d"}',
        '{"InvoiceNumber": "A", "TransactionId": "3", "Amount": 3, "InvoiceDate": "d"}',
    ]
    data.write_bytes("\r\n".join(rows).encode() + b"\r\n")
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1 and "tx.jsonl:2: Amount is not a number: 'x'" in output
    assert "loaded 2 row(s), rejected 1" in output
    assert source_items(endpoint, invoices)[("A", "1")]["Note"] == {"S": "a\u2028b"}


@pytest.mark.parametrize(
    "amount", ["1_000", "\uff11\uff12\uff13", "\u0663", "Infinity", "0x10", "1e", "+-1", "1.2.3", " 5", "[/x]"]
)
def test_only_dynamodb_number_syntax_loads(endpoint, invoices, tmp_path, amount):
    """Item 6: Python's Decimal reads `1_000`, fullwidth and Arabic-Indic digits; DynamoDB does not."""
    data = tmp_path / "tx.csv"
    data.write_text(f"{HEADER}A,1,{amount},d\n", encoding="utf-8")
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1 and f"tx.csv:2: Amount is not a number: {amount!r}" in output
    assert source_items(endpoint, invoices) == {}


def test_json_numbers_and_numeric_strings_follow_one_rule(endpoint, invoices, tmp_path):
    data = tmp_path / "tx.jsonl"
    data.write_text(
        jsonl_row(1, "12.5")
        + jsonl_row(2, '"-7e1"')
        + jsonl_row(3, '"1_000"')
        + jsonl_row(4, "NaN")
        + '{"InvoiceNumber": "A", "TransactionId": "5", "Amount": 1, "Amount": 2, "InvoiceDate": "d"}\n'
        + '{"InvoiceNumber": "A", "TransactionId": "6", "Amount": 1, "InvoiceDate": "d", "Other": 1E-200}\n'
    )
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1
    assert "tx.jsonl:3: Amount is not a number: '1_000'" in output
    assert "tx.jsonl:4: not valid JSON: NaN is not a JSON number" in output
    assert "tx.jsonl:5: field 'Amount' appears twice" in output
    assert "tx.jsonl:6: Other 1E-200 is closer to zero" in output
    items = source_items(endpoint, invoices)
    assert items[("A", "1")]["Amount"] == {"N": "12.5"} and items[("A", "2")]["Amount"] == {"N": "-70"}
    assert len(items) == 2


def test_a_binary_file_is_named_with_its_line(endpoint, invoices, tmp_path):
    """Item 11: `'utf-8' codec can't decode byte 0xfd` did not say which file."""
    data = tmp_path / "tx.csv"
    data.write_bytes(HEADER.encode() + b"A,1,1,d\nA,2,\xfd\xff,d\n")
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1
    assert output.strip() == f"error: {data}:3: not UTF-8 text (byte 0xfd at column 5)"
    assert source_items(endpoint, invoices) == {}


def test_rows_the_handler_would_count_invalid_are_rejected(endpoint, invoices, tmp_path):
    """InvoiceDate feeds a `latest` measure: without it the handler counts the item invalid."""
    data = tmp_path / "tx.jsonl"
    data.write_text(
        '{"InvoiceNumber": "A", "TransactionId": "1", "Amount": 1}\n'
        + json.dumps({"InvoiceNumber": "A" * 2049, "TransactionId": "2", "Amount": 1, "InvoiceDate": "d"})
        + "\n"
        + '{"InvoiceNumber": "A", "TransactionId": "3", "Amount": 1, "InvoiceDate": "d", "": "x"}\n'
    )
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1
    assert "tx.jsonl:1: missing InvoiceDate" in output
    assert "tx.jsonl:2: InvoiceNumber is 2049 bytes; DynamoDB allows at most 2048 in a partition key" in output
    assert "tx.jsonl:3: an attribute name is empty" in output
    assert source_items(endpoint, invoices) == {}


def test_unreadable_csv_structure_loads_nothing(endpoint, invoices, tmp_path):
    data = tmp_path / "tx.csv"
    data.write_text("InvoiceNumber,TransactionId,Amount,Amount\nA,1,1,2\n")
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1 and output.strip() == f"error: {data}:1: the header names 'Amount' twice"
    assert source_items(endpoint, invoices) == {}


@pytest.mark.parametrize("content", ["", "\n\n", "InvoiceNumber,TransactionId,Amount,InvoiceDate\n", "Foo,Bar\n"])
def test_a_file_with_no_rows_is_an_error_not_a_silent_success(endpoint, invoices, tmp_path, content):
    """An empty file or a header alone is almost always the wrong file: say so, exit 1."""
    data = tmp_path / "rows.csv"
    data.write_text(content)
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1 and f"error: {data}: no rows to load" in output
