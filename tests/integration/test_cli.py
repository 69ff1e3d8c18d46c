"""The operator commands against a moto server.

moto quirks worked around here: the stream is polled with ops.local.poller (no event source mapping in
moto) and a table is given its stream with UpdateTable after items were written with PutItem.
"""

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from handler.spec import parse_spec
from ops.__main__ import build_parser, main
from ops.engine import Discard
from ops.local.demo import poller_for
from ops.local.local_resources import create_local_aggregator, source_key_schema
from ops.reconcile import repair_request
from ops.recount import Drift, actual_totals
from ops.targets import resolve_target
from tests.conftest import INVOICE_SPEC, new_aggregator, read_aggregates, target_argv

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def ops_argv(endpoint_url, aggregator, **flags):
    """``target_argv``'s flags and the aggregator's extremes table, where it has one (tests/conftest.py's
    target_argv does not name it: the emulator's own, local-extremes, would be taken instead)."""
    extremes = ["--extremes-table", aggregator.extremes_table] if aggregator.extremes_table else []
    return [*target_argv(endpoint_url, aggregator, **flags), *extremes]


def cli(endpoint, aggregator, *argv, **flags):
    """``flags``: target_argv's (``ledger=True`` for the commands that take --ledger-table)."""
    console = Console(record=True, width=160)
    code = main([*argv, *ops_argv(endpoint.url, aggregator, **flags)], console)
    return code, console.export_text()


def drain(endpoint, aggregator):
    poller_for(endpoint, aggregator, log_stream=Discard()).drain()


@pytest.fixture
def no_empty_page_pause(monkeypatch):
    """The stream reader pauses on each empty page to leave the mapping its share of a shard, and backfill reads
    100 empty pages at an open shard's end (25 s of pauses); moto has no mapping to leave a share to."""
    monkeypatch.setattr("ops.stream.EMPTY_PAGE_PAUSE_SECONDS", 0)


@pytest.fixture
def invoices(endpoint):
    return new_aggregator(endpoint, parse_spec(INVOICE_SPEC))


def test_load_csv_reports_each_bad_row_and_loads_the_rest(endpoint, invoices, tmp_path):
    data = tmp_path / "tx.csv"
    data.write_text(
        "InvoiceNumber,TransactionId,Amount,InvoiceDate\n"
        "ABC,123,100,06062016\n"
        "ABC,456,300,06062016\n"
        "ABC,789,abc,06062016\n"
        "ABC,790,,06062016\n"
        ",791,5,06062016\n"
        "ABC,792,NaN,06062016\n"
        "XYZ,1,0.10,07062016,extra\n"
        "XYZ,2,0.20,07062016\n"
    )
    code, output = cli(endpoint, invoices, "load", str(data))
    assert code == 1
    assert "tx.csv:4: Amount is not a number: 'abc'" in output
    assert "tx.csv:5: missing Amount" in output
    assert "tx.csv:6: missing InvoiceNumber" in output
    assert "tx.csv:7: Amount is not a number: 'NaN'" in output
    assert "tx.csv:8: more fields than the header has" in output
    assert "loaded 3 row(s), rejected 5" in output
    drain(endpoint, invoices)
    totals = read_aggregates(endpoint, invoices.aggregate_table)
    assert totals["ABC"]["Total"] == Decimal(400) and totals["XYZ"]["Total"] == Decimal("0.20")


def test_load_strict_loads_nothing_when_a_row_is_bad(endpoint, invoices, tmp_path):
    data = tmp_path / "tx.jsonl"
    data.write_text(
        '{"InvoiceNumber": "A", "TransactionId": "1", "Amount": 1.5, "InvoiceDate": "d"}\n'
        "{not json\n"
        "[1, 2]\n"
        '{"InvoiceNumber": "A", "TransactionId": "2", "Amount": "2.25", "InvoiceDate": "d", "Paid": true}\n'
    )
    code, output = cli(endpoint, invoices, "load", str(data), "--strict")
    assert code == 1 and "tx.jsonl:2: not valid JSON" in output and "tx.jsonl:3: expected a JSON object" in output
    assert "nothing loaded" in output
    assert endpoint.client("dynamodb").scan(TableName=invoices.source_table)["Count"] == 0
    code, output = cli(endpoint, invoices, "load", str(data))
    assert "loaded 2 row(s), rejected 2" in output
    item = endpoint.client("dynamodb").get_item(
        TableName=invoices.source_table, Key={"InvoiceNumber": {"S": "A"}, "TransactionId": {"S": "2"}}
    )["Item"]
    assert item["Amount"] == {"N": "2.25"} and item["Paid"] == {"BOOL": True}


def test_reconcile_finds_and_repairs_drift(endpoint, invoices, tmp_path):
    data = tmp_path / "tx.csv"
    data.write_text("InvoiceNumber,TransactionId,Amount,InvoiceDate\nA,1,10,d\nA,2,20,d\nB,1,5,d\n")
    cli(endpoint, invoices, "load", str(data))
    drain(endpoint, invoices)
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 0 and "0 drift(s) over 2 key(s)" in output
    dynamodb = endpoint.client("dynamodb")
    dynamodb.update_item(
        TableName=invoices.aggregate_table,
        Key={"InvoiceNumber": {"S": "A"}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "Total"},
        ExpressionAttributeValues={":t": {"N": "35"}},
    )
    dynamodb.delete_item(TableName=invoices.aggregate_table, Key={"InvoiceNumber": {"S": "B"}})
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 3
    assert "3 drift(s) over 2 key(s)" in output
    assert "S:A" in output and "30" in output and "35" in output
    code, output = cli(endpoint, invoices, "reconcile", "--repair")
    assert code == 0 and "repaired 2 key(s)" in output
    totals = read_aggregates(endpoint, invoices.aggregate_table)
    assert totals["A"]["Total"] == Decimal(30) and totals["B"]["TransactionCount"] == Decimal(1)
    assert cli(endpoint, invoices, "reconcile")[0] == 0


def test_a_repair_skips_a_key_whose_other_measures_changed_since_the_read(endpoint, invoices):
    """Ledger-mode aggregates carry no position, so every measure as read guards the repair."""
    dynamodb = endpoint.client("dynamodb")
    key = {"InvoiceNumber": {"S": "A"}}
    dynamodb.put_item(
        TableName=invoices.aggregate_table, Item={**key, "Total": {"N": "35"}, "TransactionCount": {"N": "2"}}
    )
    spec = parse_spec(INVOICE_SPEC)
    item = dynamodb.get_item(TableName=invoices.aggregate_table, Key=key)["Item"]
    actual = actual_totals(spec, invoices.aggregate_table, [item])
    drift = Drift("S:A", key["InvoiceNumber"], "Total", Decimal(30), {"N": "35"})
    request = repair_request(spec, invoices.aggregate_table, [drift], actual["S:A"])
    dynamodb.update_item(  # the stream applies a record that only changes the count meanwhile
        TableName=invoices.aggregate_table,
        Key=key,
        UpdateExpression="ADD TransactionCount :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(**request)


def test_backfill_adds_what_predates_the_stream_exactly_once(endpoint, no_empty_page_pause):
    spec = parse_spec(INVOICE_SPEC)
    aggregator = create_local_aggregator(endpoint, spec, "bf")
    dynamodb = endpoint.client("dynamodb")
    source = "legacy-invoices"
    dynamodb.create_table(TableName=source, BillingMode="PAY_PER_REQUEST", **source_key_schema(spec))

    def put(invoice, transaction, amount):
        item = {
            "InvoiceNumber": {"S": invoice},
            "TransactionId": {"S": transaction},
            "Amount": {"N": amount},
            "InvoiceDate": {"S": "d"},
        }
        dynamodb.put_item(TableName=source, Item=item)

    for transaction, amount in (("1", "10"), ("2", "20"), ("3", "30")):
        put("OLD", transaction, amount)
    stream_arn = dynamodb.update_table(
        TableName=source, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )["TableDescription"]["LatestStreamArn"]
    put("OLD", "1", "11")  # modified after enablement
    dynamodb.delete_item(TableName=source, Key={"InvoiceNumber": {"S": "OLD"}, "TransactionId": {"S": "2"}})
    put("OLD", "4", "40")  # inserted after enablement
    live = aggregator.__class__(**{**aggregator.__dict__, "source_table": source, "stream_arn": stream_arn})
    drain(endpoint, live)
    code, output = cli(endpoint, live, "backfill", ledger=True)
    assert code == 0 and "backfilled 1 aggregate(s)" in output
    # moto's one shard is open, and nothing is written once the scan has ended: its current end is all it can show
    read = "read 3 stream record(s): 0 closed shard(s) to their end, 0 open shard(s) past the scan's end"
    assert read in output and "1 open shard(s) to their current end (100 empty pages in a row" in output, output
    assert read_aggregates(endpoint, aggregator.aggregate_table)["OLD"]["Total"] == Decimal(11 + 30 + 40)
    assert read_aggregates(endpoint, aggregator.aggregate_table)["OLD"]["TransactionCount"] == Decimal(3)
    code, output = cli(endpoint, live, "backfill", ledger=True)
    assert "backfilled 0 aggregate(s)" in output and "1 already done" in output
    assert read_aggregates(endpoint, aggregator.aggregate_table)["OLD"]["Total"] == Decimal(81)
    assert cli(endpoint, live, "reconcile")[0] == 0


def test_stack_outputs_name_the_tables(endpoint, invoices, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "source_table_name": invoices.source_table,
                "aggregate_table_name": invoices.aggregate_table,
                "extremes_table_name": invoices.extremes_table,  # the invoice stack's name for it
            }
        )
    )
    console = Console(record=True, width=160)
    assert main(["reconcile", "--endpoint-url", endpoint.url, "--stack-outputs", str(outputs)], console) == 0
    assert "0 drift(s) over 0 key(s)" in console.export_text()
    outputs.write_text(json.dumps({**json.loads(outputs.read_text()), "extremes_table_name": "Other"}))
    argv = ["reconcile", "--endpoint-url", endpoint.url, "--stack-outputs", str(outputs)]
    assert main([*argv, "--extremes-table", invoices.extremes_table], console) == 1
    told = f"--extremes-table {invoices.extremes_table} is not the stack's extremes_table_name Other"
    assert told in console.export_text()


def test_errors_are_one_line(tmp_path):
    console = Console(record=True, width=200)
    assert main(["reconcile", "--endpoint-url", "http://127.0.0.1:9"], console) == 1
    text = console.export_text().strip()
    assert text == "error: no emulator at http://127.0.0.1:9: start one with `python -m ops emulator`, or pass --aws"


def test_missing_table_is_one_line(endpoint, tmp_path):
    console = Console(record=True, width=300)
    code = main(
        ["reconcile", "--endpoint-url", endpoint.url, "--source-table", "nope", "--aggregate-table", "nada"], console
    )
    assert (
        code == 1 and "ResourceNotFoundException" in console.export_text() and "Traceback" not in console.export_text()
    )


def test_watch_streams_and_totals_match_the_source(endpoint):
    from ops.local.watch import run_watch

    shown = run_watch(Console(record=True, width=120), seconds=1.5, rate=40)
    assert shown.written > 0
    counted = sum(t["TransactionCount"] for t in shown.totals.values())
    assert counted == shown.written, "every transaction written is counted"


@pytest.mark.parametrize("speed", [1, 60], ids=["wall-clock", "sixty-times-faster"])
def test_watch_shows_orders_per_minute_as_recomputed_from_the_source(endpoint, speed):
    """Every order is counted in exactly the UTC minute its OrderDate falls into, recomputed here from
    the Orders table without the handler's bucket code; at 60x a 1.5 s run spans about 90 s of orders."""
    from ops.local.orders_per_minute import ORDERS_TABLE
    from ops.local.watch import run_watch

    console = Console(record=True, width=120, file=io.StringIO())
    shown = run_watch(console, seconds=1.5, rate=40, speed=speed, endpoint=endpoint)

    orders = endpoint.client("dynamodb").scan(TableName=ORDERS_TABLE, ConsistentRead=True)["Items"]
    assert len(orders) == shown.orders_written > 0
    expected: dict[str, tuple[int, Decimal]] = {}
    for order in orders:
        minute = datetime.fromisoformat(order["OrderDate"]["S"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        count, revenue = expected.get(minute, (0, Decimal(0)))
        expected[minute] = (count + 1, revenue + Decimal(order["Amount"]["N"]))
    series = {row.minute: (row.orders, row.revenue) for row in shown.series}
    assert {minute: totals for minute, totals in series.items() if totals[0]} == expected
    # The view ends at the order clock's current minute, which may have no order yet (seen at 60x on a
    # loaded machine): the series must reach the newest order's minute, and what follows it is empty.
    assert list(series) == sorted(series) and max(series) >= max(expected), "the series reaches the newest order"
    text = console.export_text()
    assert "OrdersPerMinute" in text and all(minute in text for minute in expected)
    assert sum(t["TransactionCount"] for t in shown.totals.values()) == shown.written, "the invoice totals still run"


def test_speed_and_seconds_need_watch(capsys):
    for argv in (["demo", "--speed", "60"], ["demo", "--seconds", "5"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "--seconds and --speed need --watch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--watch", "--speed", "0"])
    assert "must be a whole number from 1 to 3600" in capsys.readouterr().err


def test_missing_files_are_one_line(endpoint, tmp_path):
    console = Console(record=True, width=300)
    spec = tmp_path / "nope.json"
    assert main(["reconcile", "--endpoint-url", endpoint.url, "--spec", str(spec)], console) == 1
    assert console.export_text().strip() == f"error: cannot read {spec}: No such file or directory"
    console = Console(record=True, width=300)
    assert main(["load", str(tmp_path / "absent.csv"), "--endpoint-url", endpoint.url], console) == 1
    assert "cannot read" in console.export_text() and "Traceback" not in console.export_text()


def test_the_local_emulator_serves_the_other_commands(endpoint, tmp_path):
    """`python -m ops emulator` in a thread; load, the emulator's own poller, then reconcile.

    moto keeps one state per process, shared by all its servers: ``endpoint`` resets it afterwards.
    """
    import socket
    import threading
    import time

    from ops.local.emulator_command import run_emulator

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    quiet = Console(file=io.StringIO())
    emulator = threading.Thread(target=run_emulator, args=(port, quiet, 6.0), daemon=True)
    emulator.start()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "tx.csv"
    data.write_text("InvoiceNumber,TransactionId,Amount,InvoiceDate\nABC,123,100,06062016\nABC,456,300,06062016\n")

    def run(*argv: str) -> tuple[int, str]:
        console = Console(record=True, width=160)
        code = main([*argv, "--endpoint-url", url], console)
        return code, console.export_text()

    for _ in range(50):  # until the emulator has created its tables
        code, output = run("load", str(data))
        if code == 0:
            break
        time.sleep(0.1)
    assert "loaded 2 row(s), rejected 0" in output
    for _ in range(50):  # until the emulator's poller has aggregated the stream
        code, output = run("reconcile")
        if code == 0 and "over 1 key(s)" in output:
            break
        time.sleep(0.1)
    assert "0 drift(s) over 1 key(s)" in output
    emulator.join(timeout=10)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param([], "with --aws, name the tables", id="no-tables"),
        pytest.param(
            ["--source-table", "Src", "--aggregate-table", "Agg"], "with --aws, give the aggregation", id="no-spec"
        ),
    ],
)
def test_aws_never_falls_back_to_the_local_invoice_stack(arguments, message):
    console = Console(record=True, width=300)
    assert main(["reconcile", "--aws", *arguments], console) == 1
    assert message in console.export_text()


def test_the_stack_outputs_carry_the_aggregation(endpoint, tmp_path):
    """__main__.py exports it; a spec in the outputs is the one used (here one the tables do not fit)."""
    outputs = tmp_path / "outputs.json"
    spec = {"partition_key": "Customer", "measures": [{"name": "N", "op": "count"}]}
    outputs.write_text(
        json.dumps({"source_table_name": "Src", "aggregate_table_name": "Agg", "aggregation": json.dumps(spec)})
    )
    args = build_parser().parse_args(["reconcile", "--endpoint-url", endpoint.url, "--stack-outputs", str(outputs)])
    assert resolve_target(args).spec.partition_key == "Customer"


def test_the_commands_against_aws_do_not_import_the_emulator():
    """The operator's CLI needs boto3 and rich at runtime; moto is for the local commands only."""
    code = (
        "import sys, ops.__main__, ops.load, ops.reconcile, ops.backfill, ops.targets, "
        "ops.replay, ops.quarantine; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('moto', 'werkzeug')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


MEASURED = {
    "partition_key": "CustomerId",
    "sort_key": "OrderId",
    "measures": [
        {"name": "Spent", "op": "sum", "attribute": "Amount"},
        {"name": "AverageOrder", "op": "avg", "attribute": "Amount"},
        {"name": "Largest", "op": "max", "attribute": "Amount"},
        {"name": "FirstOrder", "op": "min", "attribute": "OrderDate", "type": "S"},
    ],
}


def test_query_shows_avg_min_and_max_as_read(endpoint, tmp_path):
    """avg computed on read from its stored sum and count; min/max by one Query of the extremes table's index."""
    aggregator = new_aggregator(endpoint, parse_spec(MEASURED))
    dynamodb = endpoint.client("dynamodb")
    orders = [("C1", "1", "10", "2026-11-28"), ("C1", "2", "20", "2026-02-01"), ("C1", "3", "30", "2026-12-01")]
    orders += [("C2", "1", "1", "2026-10-10"), ("C2", "2", "2", "2026-10-11"), ("C2", "3", "2", "2026-10-12")]
    for customer, order, amount, date in orders:
        item = {"CustomerId": {"S": customer}, "OrderId": {"S": order}, "Amount": {"N": amount}}
        dynamodb.put_item(TableName=aggregator.source_table, Item={**item, "OrderDate": {"S": date}})
    dynamodb.delete_item(TableName=aggregator.source_table, Key={"CustomerId": {"S": "C1"}, "OrderId": {"S": "3"}})
    drain(endpoint, aggregator)  # C1's largest (30) and latest order removed: the next max is 20
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(MEASURED))
    shown = {}
    for customer in ("C1", "C2"):
        code, output = cli(endpoint, aggregator, "query", customer, "--spec", str(spec))
        row = next(line for line in output.splitlines() if f"│ {customer} " in line)
        shown[customer] = [c.strip() for c in row.split("│")[2:6]]
        assert code == 0, output
    assert shown["C1"] == ["30", "15", "20", "2026-02-01"]
    assert shown["C2"] == ["5", "1." + "6" * 36 + "7", "2", "2026-10-10"]  # 38 significant digits, rounded
    assert cli(endpoint, aggregator, "reconcile", "--spec", str(spec))[0] == 0


def test_query_with_a_table_that_is_not_an_extremes_table_is_one_line(endpoint, invoices):
    console = Console(record=True, width=240)
    argv = ["query", "A", *ops_argv(endpoint.url, invoices), "--extremes-table", invoices.ledger_table]
    assert main(argv, console) == 1
    output = console.export_text()
    assert (
        output.startswith(f"error: table {invoices.ledger_table} is not an extremes table") and output.count("\n") == 1
    )
