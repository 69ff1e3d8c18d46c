"""DynamoDB's number rules as the operator tools apply them (ops.text, ops.targets)."""

import argparse
from decimal import Decimal

import pytest

from ops.targets import endpoint_url, is_table_name, seconds, whole_number
from ops.text import NumberError, parse_number_text, storable_text, storage_problem


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("0", "0"),
        ("-0", "0"),
        ("0E+999", "0"),
        ("+12.50", "12.5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1e2", "100"),
        ("-7E-1", "-0.7"),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("1.5" + "0" * 200, "1.5"),
    ],
)
def test_what_dynamodb_accepts_is_stored_as_dynamodb_would_keep_it(text, stored):
    assert storable_text(parse_number_text(text, "Amount"), "Amount") == stored


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "1_000", "\uff11", "\u0663", "NaN", "-Infinity", "0x1", "1e", "e5", ".", "+-1", "1,5", "\u0661.2"],
)
def test_only_dynamodb_syntax_is_a_number(text):
    with pytest.raises(NumberError, match="Amount is not a number"):
        parse_number_text(text, "Amount")


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("1E+126", "is larger than DynamoDB's largest number"),
        ("-1E+126", "is larger than DynamoDB's largest number"),
        ("9.99999999999999999999999999999999999999E+125", "has 39 significant digits"),
        ("1E-131", "is closer to zero than DynamoDB's smallest number 1E-130"),
        ("-9.9E-131", "is closer to zero"),
        ("1234567890123456789012345678901234567.89", "has 39 significant digits; DynamoDB keeps 38"),
    ],
)
def test_precision_and_range(number, problem):
    assert problem in (storage_problem(Decimal(number)) or "")
    with pytest.raises(NumberError, match=problem):
        storable_text(Decimal(number), "Total")


@pytest.mark.parametrize("number", ["9.9999999999999999999999999999999999999E+125", "-1E-130", "1E+125"])
def test_the_extremes_are_storable(number):
    assert storage_problem(Decimal(number)) is None


def test_whole_numbers_are_bounded_ascii_digits():
    parse = whole_number(1, 64)
    assert parse("64") == 64
    for text in ("0", "65", "-1", "\u0663", "1e1", " 4", "9" * 5000):
        with pytest.raises(argparse.ArgumentTypeError, match="from 1 to 64, got '"):
            parse(text)


def test_seconds_endpoints_and_table_names():
    assert seconds("1.5") == 1.5
    for text in ("0", "nan", "inf", "-1", "1e3", "999999999"):
        with pytest.raises(argparse.ArgumentTypeError):
            seconds(text)
    assert endpoint_url("http://127.0.0.1:4599/") == "http://127.0.0.1:4599"
    for text in ("127.0.0.1:4599", "ftp://x", "http://", "http://x:port", "http://a b", "http://[::1"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be an http:// or https:// URL"):
            endpoint_url(text)
    assert is_table_name("Invoice-Total_1.x") and is_table_name("arn:aws:dynamodb:us-east-1:123456789012:table/T1x")
    assert not any(is_table_name(value) for value in (5, "", "ab", "a b", "x" * 256, None, ["abc"]))
