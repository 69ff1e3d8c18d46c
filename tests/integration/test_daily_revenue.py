"""The README's per-day example (aggregations.DAILY_REVENUE_AGGREGATION) end to end on moto: orders
written, re-dated across Berlin's midnight and deleted, the stream polled into the real handler,
then read back by key, by the bucket index, with `python -m ops query` and `reconcile`.

moto quirks worked around here: source items are written with PutItem (moto's UpdateItem on a new
key emits two INSERTs) and the stream is polled by ops.local.poller (no event source mapping).
"""

import io
import json
from decimal import Decimal

import pytest
from rich.console import Console

from aggregations import DAILY_REVENUE_AGGREGATION
from handler.spec import parse_spec
from ops.__main__ import main
from ops.engine import Discard
from ops.local.demo import poller_for
from ops.local.local_resources import create_local_aggregator
from tests.conftest import drain_queue

pytestmark = pytest.mark.integration

SPEC = parse_spec(DAILY_REVENUE_AGGREGATION)


@pytest.fixture
def daily(endpoint):
    return create_local_aggregator(endpoint, SPEC, "daily", index_by_bucket=True)


def put_order(endpoint, aggregator, order, customer, date, amount):
    item = {"OrderId": {"S": order}, "CustomerId": {"S": customer}, "OrderDate": {"S": date}, "Amount": {"N": amount}}
    endpoint.client("dynamodb").put_item(TableName=aggregator.source_table, Item=item)


def aggregates(endpoint, aggregator):
    items = endpoint.client("dynamodb").scan(TableName=aggregator.aggregate_table, ConsistentRead=True)["Items"]
    return {
        item["CustomerId#OrderDate_day"]["S"]: (
            item["CustomerId"]["S"],
            item["OrderDate_day"]["S"],
            Decimal(item["Revenue"]["N"]),
            int(item["OrderCount"]["N"]),
        )
        for item in items
    }


def cli(endpoint, aggregator, spec_file, *argv):
    console = Console(record=True, width=160, file=io.StringIO())
    target = ["--endpoint-url", endpoint.url, "--source-table", aggregator.source_table]
    target += ["--aggregate-table", aggregator.aggregate_table, "--spec", str(spec_file)]
    if aggregator.extremes_table:  # else the emulator's own would be taken
        target += ["--extremes-table", aggregator.extremes_table]
    code = main([*argv, *target], console)
    return code, console.export_text()


def test_revenue_and_order_count_per_customer_per_berlin_day(endpoint, daily, tmp_path):
    poller = poller_for(endpoint, daily, log_stream=Discard())  # one poller: each record read once
    put_order(endpoint, daily, "o1", "C-17", "2026-11-28T09:00:00+01:00", "10.50")
    put_order(endpoint, daily, "o2", "C-17", "2026-11-28T22:30:00Z", "20")  # 23:30 in Berlin: still the 28th
    put_order(endpoint, daily, "o3", "C-18", "2026-11-28T23:30:00Z", "5")  # 00:30 in Berlin: the 29th
    put_order(endpoint, daily, "o4", "C-17", "2026-11-29", "7")
    put_order(endpoint, daily, "o5", "C-19", "06062016", "1")  # not ISO 8601: quarantined with the reason
    assert poller.drain().function_errors == 0
    put_order(endpoint, daily, "o2", "C-17", "2026-11-29T12:00:00Z", "20")  # re-dated: moves to the 29th
    endpoint.client("dynamodb").delete_item(TableName=daily.source_table, Key={"OrderId": {"S": "o4"}})
    assert poller.drain().function_errors == 0

    assert aggregates(endpoint, daily) == {
        "C-17#2026-11-28": ("C-17", "2026-11-28", Decimal("10.50"), 1),
        "C-17#2026-11-29": ("C-17", "2026-11-29", Decimal(20), 1),
        "C-18#2026-11-29": ("C-18", "2026-11-29", Decimal(5), 1),
    }
    (quarantined,) = drain_queue(endpoint, daily.quarantine_queue_url)
    assert quarantined["reason"] == "invalid new image: attribute 'OrderDate' is not an ISO-8601 date: '06062016'"

    on_the_29th = endpoint.client("dynamodb").query(
        TableName=daily.aggregate_table,
        IndexName="OrderDate_day-by-bucket",
        KeyConditionExpression="OrderDate_day = :day",
        ExpressionAttributeValues={":day": {"S": "2026-11-29"}},
    )["Items"]
    assert [item["CustomerId"]["S"] for item in on_the_29th] == ["C-17", "C-18"], "every customer of a day, one Query"

    spec_file = tmp_path / "daily.json"
    spec_file.write_text(json.dumps(DAILY_REVENUE_AGGREGATION))
    code, text = cli(endpoint, daily, spec_file, "query", "C-17", "--from", "2026-11-27", "--to", "2026-11-30")
    assert code == 0 and "2 of 4 aggregate(s) found" in text
    assert [line.split("│")[1:5] for line in text.splitlines() if "C-17" in line or "total" in line] == [
        [" C-17       ", " 2026-11-28    ", "   10.50 ", "          1 "],
        [" C-17       ", " 2026-11-29    ", "      20 ", "          1 "],
        [" total      ", "               ", "   30.50 ", "          2 "],
    ]
    code, text = cli(endpoint, daily, spec_file, "query", "C-18", "2026-11-29T08:00")
    assert code == 0 and "1 of 1 aggregate(s) found" in text and "C-18" in text
    code, text = cli(endpoint, daily, spec_file, "query", "C-18", "2026-11-28")
    assert code == 1 and "0 of 1 aggregate(s) found" in text
    code, text = cli(endpoint, daily, spec_file, "query", "C-18", "2026-11-28", "extra")
    assert code == 1 and "give one value for each of: CustomerId OrderDate_day (got 3)" in text

    code, text = cli(endpoint, daily, spec_file, "reconcile")
    assert code == 0 and "0 drift(s) over 3 key(s)" in text and "1 invalid source item(s)" in text
    endpoint.client("dynamodb").delete_item(
        TableName=daily.aggregate_table, Key={"CustomerId#OrderDate_day": {"S": "C-17#2026-11-29"}}
    )
    code, text = cli(endpoint, daily, spec_file, "reconcile", "--repair")
    assert code == 0 and "repaired 1 key(s)" in text
    assert aggregates(endpoint, daily)["C-17#2026-11-29"] == ("C-17", "2026-11-29", Decimal(20), 1)


def test_query_reads_a_single_attribute_aggregate_too(endpoint, tmp_path):
    from tests.conftest import INVOICE_SPEC, new_aggregator

    invoices = new_aggregator(endpoint, parse_spec(INVOICE_SPEC))
    endpoint.client("dynamodb").put_item(
        TableName=invoices.aggregate_table,
        Item={"InvoiceNumber": {"S": "ABC"}, "Total": {"N": "400"}, "TransactionCount": {"N": "2"}},
    )
    spec_file = tmp_path / "invoice.json"
    spec_file.write_text(json.dumps(INVOICE_SPEC))
    code, text = cli(endpoint, invoices, spec_file, "query", "ABC")
    assert code == 0 and "ABC" in text and "400" in text
    code, text = cli(endpoint, invoices, spec_file, "query", "ABC", "--from", "2026-01-01", "--to", "2026-01-02")
    assert code == 1 and "--from/--to need a group_by part with a time bucket" in text


def test_query_refuses_a_bucket_in_other_digits_and_points_them_out_in_a_value_that_found_nothing(
    endpoint, daily, tmp_path
):
    """A fullwidth date asked for a key no item has: "0 of 1 aggregate(s) found", exit 1, as if no data."""
    spec_file = tmp_path / "daily.json"
    spec_file.write_text(json.dumps(DAILY_REVENUE_AGGREGATION))
    code, text = cli(endpoint, daily, spec_file, "query", "C-17", "\uff12\uff10\uff12\uff16-11-28")
    assert code == 1 and "error: the value of group_by part 'OrderDate_day'" in text and "found" not in text, text
    code, text = cli(endpoint, daily, spec_file, "query", "C-\uff11\uff17", "2026-11-28")
    assert code == 1 and "0 of 1 aggregate(s) found" in text and "note: 'C-\uff11\uff17' has digits other" in text


def test_reconcile_a_composite_key_as_reconcile_prints_it_repairs_that_key_only(endpoint, daily, tmp_path):
    """Issue 17 item 4: a composite key is given as reconcile's table and replay print it (S:C-17#2026-11-28);
    the source is scanned with a filter on the attribute part (the day is a label, kept client-side), and
    a part spelled otherwise than the handler writes it is refused with the spelling to use."""
    spec_file = tmp_path / "daily.json"
    spec_file.write_text(json.dumps(DAILY_REVENUE_AGGREGATION))
    put_order(endpoint, daily, "o1", "C-17", "2026-11-28T09:00:00+01:00", "10.50")
    put_order(endpoint, daily, "o2", "C-17", "2026-11-29T12:00:00Z", "20")
    put_order(endpoint, daily, "o3", "C-18", "2026-11-28T12:00:00Z", "5")
    code, text = cli(endpoint, daily, spec_file, "reconcile", "--key", "S:C-17#2026-11-28", "--repair")
    assert code == 0 and "2 drift(s) over 1 key(s)" in text and "repaired 1 key(s)" in text, text
    assert aggregates(endpoint, daily) == {"C-17#2026-11-28": ("C-17", "2026-11-28", Decimal("10.50"), 1)}
    code, text = cli(endpoint, daily, spec_file, "reconcile")
    assert code == 3 and "4 drift(s) over 3 key(s)" in text and "S:C-17#2026-11-28" not in text

    code, text = cli(endpoint, daily, spec_file, "reconcile", "--key", "S:C-17#2026-11-28T09:00")
    message = "error: --key 'S:C-17#2026-11-28T09:00' is not spelled as the handler writes it: 'S:C-17#2026-11-28'"
    assert code == 1 and text.startswith(message), text
    code, text = cli(endpoint, daily, spec_file, "reconcile", "--key", "S:C-17")
    assert code == 1 and "it has 1 part(s); group_by 'CustomerId#OrderDate_day' has 2" in text, text
