"""`reconcile --key`: parsing the keys named, and the reads that find their source items: pure."""

import json

import pytest

from aggregations import DAILY_REVENUE_AGGREGATION, INVOICE_AGGREGATION
from handler.spec import parse_spec
from ops.errors import CommandError
from ops.recount import MAX_FILTER_CHARS, MAX_IN_VALUES, parse_key, parse_keys, reads_by_query, scan_filter

INVOICES = parse_spec(INVOICE_AGGREGATION)
DAILY = parse_spec(DAILY_REVENUE_AGGREGATION)
BY_STORE = parse_spec({**INVOICE_AGGREGATION, "group_by": ["Region", {"attribute": "StoreId", "type": "N"}]})


@pytest.mark.parametrize(
    ("spec", "text", "key_type", "value"),
    [
        (INVOICES, "S:INV-1", "S", {"S": "INV-1"}),
        (INVOICES, "S:a, S:b", "S", {"S": "a, S:b"}),  # one key holding ", ": only a line or --key separates keys
        (INVOICES, "N:1.5", "N", {"N": "1.5"}),
        (INVOICES, "B:AAE=", "B", {"B": b"\x00\x01"}),
        (DAILY, "S:C-17#2026-11-28", "S", {"S": "C-17#2026-11-28"}),
        (DAILY, "S:A\\#1#2026-11-28", "S", {"S": "A\\#1#2026-11-28"}),
        (BY_STORE, "S:north#7", "S", {"S": "north#7"}),
    ],
)
def test_a_key_as_reconcile_prints_it_is_that_key(spec, text, key_type, value):
    key = parse_key(spec, text, key_type)
    assert key.token == text and key.value == value


@pytest.mark.parametrize(
    ("spec", "text", "key_type", "message"),
    [
        (INVOICES, "INV-1", "S", "write a key as reconcile and replay print it"),
        (INVOICES, "X:1", "S", "write a key as reconcile and replay print it"),
        (INVOICES, "N:1", "S", "the aggregate table's key 'InvoiceNumber' has type S, not N"),
        (INVOICES, "N:1.50", "N", "is not spelled as the handler writes it: 'N:1.5' names that aggregate"),
        (INVOICES, "N:1e3", "N", "is not spelled as the handler writes it: 'N:1000'"),
        (INVOICES, "N:\uff11", "N", "is not a N value"),
        (INVOICES, "N:1" + "0" * 40 + "1", "N", "significant digits"),
        (INVOICES, "B:AAE", "B", "is not a B value"),
        (INVOICES, "S:" + "x" * 2049, "S", "an aggregate key must be 1 to 2048 bytes"),
        (DAILY, "S:C-17", "S", "it has 1 part(s); group_by 'CustomerId#OrderDate_day' has 2"),
        (DAILY, "S:C-17#2026-11-28#x", "S", "it has 3 part(s)"),
        (DAILY, "S:C-17#28.11.2026", "S", "is neither a day label nor an ISO date or time"),
        (DAILY, "S:C-17#2026-11-28T10:00", "S", "'S:C-17#2026-11-28' names that aggregate"),
        (DAILY, "S:#2026-11-28", "S", "group_by part 'CustomerId' is empty"),
        (DAILY, "S:C\\x#2026-11-28", "S", "escapes neither"),
        (BY_STORE, "S:north#07", "S", "'S:north#7' names that aggregate"),
        (BY_STORE, "S:north#seven", "S", "is not a number"),
    ],
)
def test_a_key_the_spec_cannot_produce_or_spelled_otherwise_is_refused_naming_it(spec, text, key_type, message):
    with pytest.raises(CommandError) as refused:
        parse_key(spec, text, key_type)
    assert str(refused.value).startswith(f"--key {text[:80]!r}") and message in str(refused.value)


def test_keys_from_a_file_name_the_line_and_come_once(tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("S:B\n\nS:A\r\nS:B\n")
    assert [key.token for key in parse_keys(INVOICES, ["S:C", "S:A"], "S", path)] == ["S:C", "S:A", "S:B"]
    path.write_text("S:A\nN:2\n")
    with pytest.raises(CommandError, match=r"keys.txt:2: 'N:2': the aggregate table's key"):
        parse_keys(INVOICES, [], "S", path)
    path.write_text("\n\n")
    with pytest.raises(CommandError, match=r"names no key"):
        parse_keys(INVOICES, [], "S", path)


@pytest.mark.parametrize(
    ("document", "jq"),
    [
        ({"batches": [{"keys_to_reconcile": ["S:A"], "failed_keys": []}]}, ".batches[].keys_to_reconcile[]"),
        ({"drifts": [{"key": "S:A", "measure": "Total"}], "keys_checked": 1}, ".drifts[].key"),
        ([{"key": "S:A"}], ".aggregates[].key"),
    ],
)
def test_keys_from_a_commands_json_document_says_how_to_make_one_key_a_line(tmp_path, document, jq):
    """edges 1: replay's `--output json` saved as a file and given to --keys-from was read line by line, its
    first line `{` refused as a key with no word on the file being a JSON document, or on the jq line to use."""
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(CommandError) as refused:
        parse_keys(INVOICES, [], "S", path)
    assert str(refused.value).startswith(f"{path}:1: a JSON document, not one key a line") and jq in str(refused.value)


def test_only_a_group_by_that_is_the_partition_key_reads_by_query():
    assert reads_by_query(INVOICES)
    assert not reads_by_query(DAILY) and not reads_by_query(parse_spec({**INVOICE_AGGREGATION, "group_by": "Region"}))


def test_a_composite_key_filters_on_its_attribute_parts_once_per_value():
    keys = [parse_key(DAILY, text, "S") for text in ("S:C-17#2026-11-28", "S:C-17#2026-11-29", "S:C-18#2026-11-28")]
    where = scan_filter(DAILY, keys)
    assert where["FilterExpression"] == "#a0 IN (:v0_0, :v1_0)"
    assert where["ExpressionAttributeNames"] == {"#a0": "CustomerId"}
    assert where["ExpressionAttributeValues"] == {":v0_0": {"S": "C-17"}, ":v1_0": {"S": "C-18"}}
    where = scan_filter(BY_STORE, [parse_key(BY_STORE, text, "S") for text in ("S:north#7", "S:south#7")])
    assert where["FilterExpression"] == "(#a0 = :v0_0 AND #a1 = :v0_1) OR (#a0 = :v1_0 AND #a1 = :v1_1)"
    assert where["ExpressionAttributeNames"] == {"#a0": "Region", "#a1": "StoreId"}
    assert where["ExpressionAttributeValues"] == {
        ":v0_0": {"S": "north"},
        ":v0_1": {"N": "7"},
        ":v1_0": {"S": "south"},
        ":v1_1": {"N": "7"},
    }


def test_a_group_by_of_time_buckets_only_scans_unfiltered():
    days = parse_spec({**DAILY_REVENUE_AGGREGATION, "group_by": [{"attribute": "OrderDate", "bucket": "day"}]})
    assert scan_filter(days, [parse_key(days, "S:2026-11-28", "S")]) == {}


def test_keys_more_than_one_filter_can_name_are_read_by_one_unfiltered_scan():
    """DynamoDB allows 100 values in an IN, 300 operators and 4 KB in an expression; several filtered scans
    would each read the whole table, so past that one scan reads it once and the keys are picked client-side."""
    regional = parse_spec({**INVOICE_AGGREGATION, "group_by": "Region"})
    keys = [parse_key(regional, f"S:region-{number}", "S") for number in range(MAX_IN_VALUES + 1)]
    assert len(scan_filter(regional, keys[:-1])["ExpressionAttributeValues"]) == MAX_IN_VALUES
    assert scan_filter(regional, keys) == {}
    pairs = [parse_key(BY_STORE, f"S:r#{number}", "S") for number in range(80)]
    where = scan_filter(BY_STORE, pairs[:75])  # 75 x (2 = and 1 AND) + 74 OR = 299 operators
    assert where and len(where["FilterExpression"]) <= MAX_FILTER_CHARS
    assert scan_filter(BY_STORE, pairs[:76]) == {}
    long = [parse_key(regional, f"S:{'x' * 2000}{number}", "S") for number in range(3)]
    assert scan_filter(regional, long)  # the values are not in the expression: long keys still filter
