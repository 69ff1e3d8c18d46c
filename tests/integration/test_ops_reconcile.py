"""`reconcile`, `backfill` and the target options against a moto server (issue 9, items 1, 8 to 11)."""

import json
import re

import boto3
import pytest
from rich.console import Console

from handler.extremes import extremes_key
from handler.position import item_token
from handler.spec import parse_spec
from ops.__main__ import main
from ops.local.local_resources import create_local_aggregator, source_key_schema
from ops.reconcile import REPAIRED
from ops.recount import BACKFILL_MARKER
from tests.conftest import INVOICE_SPEC, new_aggregator
from tests.integration.test_cli import cli, drain, no_empty_page_pause, ops_argv  # noqa: F401 (a fixture)
from tests.integration.test_ops_output import run

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_empty_page_pause")]

EXACT_TOTAL = "1234567890123456789012345678.91"
"""30 significant digits: Python's default decimal context (28 digits) rounds it."""


@pytest.fixture
def invoices(endpoint):
    return new_aggregator(endpoint, parse_spec(INVOICE_SPEC))


def put_source(endpoint, table, invoice, transaction, amount):
    endpoint.client("dynamodb").put_item(
        TableName=table,
        Item={
            "InvoiceNumber": {"S": invoice},
            "TransactionId": {"S": transaction},
            "Amount": {"N": amount},
            "InvoiceDate": {"S": "d"},
        },
    )


def put_aggregate(endpoint, aggregator, invoice, **measures):
    item = {"InvoiceNumber": {"S": invoice}, **measures}
    endpoint.client("dynamodb").put_item(TableName=aggregator.aggregate_table, Item=item)


def put_entry(endpoint, aggregator, invoice, transaction, amount, measure="LargestTransaction"):
    """An extremes-table entry as the handler writes it for a ledger aggregation (handler/extremes.py)."""
    item = {
        "k": {"S": extremes_key(f"S:{invoice}", measure)},
        "i": {"S": item_token(f"S:{invoice}", f"S:{transaction}")},
        "n": {"N": amount},
    }
    endpoint.client("dynamodb").put_item(TableName=aggregator.extremes_table, Item=item)


def entries(endpoint, aggregator):
    """The extremes table as {(key, measure): {item token: value text}}."""
    items = endpoint.client("dynamodb").scan(TableName=aggregator.extremes_table, ConsistentRead=True)["Items"]
    found = {}
    for item in items:
        found.setdefault(tuple(json.loads(item["k"]["S"])), {})[item["i"]["S"]] = item["n"]["N"]
    return found


def aggregate(endpoint, aggregator, invoice):
    key = {"InvoiceNumber": {"S": invoice}}
    return endpoint.client("dynamodb").get_item(TableName=aggregator.aggregate_table, Key=key).get("Item")


def test_reconcile_sums_and_repairs_exactly(endpoint, invoices):
    """Item 1: the default context read a 30-digit total as drifted by -0.09 and repaired it rounded."""
    put_source(endpoint, invoices.source_table, "BIG", "1", EXACT_TOTAL)
    put_aggregate(endpoint, invoices, "BIG", Total={"N": EXACT_TOTAL}, TransactionCount={"N": "1"})
    put_entry(endpoint, invoices, "BIG", "1", EXACT_TOTAL)
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 0 and "0 drift(s) over 1 key(s)" in output
    put_aggregate(endpoint, invoices, "BIG", Total={"N": "1"}, TransactionCount={"N": "1"})
    code, output = cli(endpoint, invoices, "reconcile", "--repair")
    assert code == 0 and "repaired 1 key(s)" in output and EXACT_TOTAL in output
    assert aggregate(endpoint, invoices, "BIG")["Total"] == {"N": EXACT_TOTAL}


def test_a_total_dynamodb_cannot_store_is_reported_and_never_written(endpoint, invoices):
    put_source(endpoint, invoices.source_table, "BIG", "1", "12345678901234567890123456789012345678")
    put_source(endpoint, invoices.source_table, "BIG", "2", "0.1")
    put_source(endpoint, invoices.source_table, "OK", "1", "5")
    put_aggregate(endpoint, invoices, "BIG", Total={"N": "7"}, TransactionCount={"N": "2"})
    code, output = cli(endpoint, invoices, "reconcile")
    message = "S:BIG Total: the exact total 12345678901234567890123456789012345678.1 has 39 significant digits"
    assert code == 3 and message in output
    code, output = cli(endpoint, invoices, "reconcile", "--repair")
    assert code == 1 and "error: --repair wrote nothing: 1 total(s) cannot be stored exactly" in output
    assert aggregate(endpoint, invoices, "BIG")["Total"] == {"N": "7"} and aggregate(endpoint, invoices, "OK") is None


def legacy_source(endpoint, name, rows):
    """A source table whose rows predate its stream, and an aggregator reading that stream."""
    spec = parse_spec(INVOICE_SPEC)
    aggregator = create_local_aggregator(endpoint, spec, name)
    dynamodb = endpoint.client("dynamodb")
    source = f"{name}-legacy"
    dynamodb.create_table(TableName=source, BillingMode="PAY_PER_REQUEST", **source_key_schema(spec))
    for invoice, transaction, amount in rows:
        put_source(endpoint, source, invoice, transaction, amount)
    stream_arn = dynamodb.update_table(
        TableName=source, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )["TableDescription"]["LatestStreamArn"]
    return aggregator.__class__(**{**aggregator.__dict__, "source_table": source, "stream_arn": stream_arn})


def test_backfill_adds_exact_totals(endpoint):
    """Item 1, backfill's side: it shares the recomputation."""
    live = legacy_source(endpoint, "bfx", [("BIG", "1", EXACT_TOTAL)])
    code, output = cli(endpoint, live, "backfill", ledger=True)
    assert code == 0 and "backfilled 1 aggregate(s)" in output
    assert aggregate(endpoint, live, "BIG")["Total"] == {"N": EXACT_TOTAL}


def test_backfill_writes_nothing_when_a_total_cannot_be_stored(endpoint):
    rows = [("OK", "1", "5"), ("BIG", "1", "1E+125"), ("BIG", "2", "1E-130")]
    live = legacy_source(endpoint, "bfo", rows)
    code, output = cli(endpoint, live, "backfill", ledger=True)
    assert code == 1 and output.count("\n") == 1
    assert "error: backfill wrote nothing: S:BIG Total: the exact total needs more than 78 digits" in output
    assert aggregate(endpoint, live, "OK") is None


def test_a_measure_stored_with_the_wrong_type_is_shown_and_repaired(endpoint, invoices):
    """Item 9: `Total` stored as S showed as 0, and its repair was skipped forever."""
    put_source(endpoint, invoices.source_table, "A", "1", "30")
    put_aggregate(endpoint, invoices, "A", Total={"S": "35"}, TransactionCount={"N": "1"})
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 3 and re.search(r"S:A\s*│\s*Total\s*│\s*30\s*│\s*S '35'\s*│", output), output
    code, output = cli(endpoint, invoices, "reconcile", "--repair")
    assert code == 0 and "repaired 1 key(s)" in output and "skipped" not in output
    assert aggregate(endpoint, invoices, "A")["Total"] == {"N": "30"}
    assert cli(endpoint, invoices, "reconcile")[0] == 0


def test_drift_totals_are_per_measure(endpoint, invoices):
    """Item 10: the one total row added money to counts."""
    put_source(endpoint, invoices.source_table, "A", "1", "30")
    put_source(endpoint, invoices.source_table, "B", "1", "1")
    put_aggregate(endpoint, invoices, "A", Total={"N": "35"}, TransactionCount={"N": "1"})
    put_aggregate(endpoint, invoices, "B", Total={"N": "3"}, TransactionCount={"N": "0"})
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 3 and "3 drift(s) over 2 key(s)" in output
    totals = [line for line in output.splitlines() if re.match(r"[│ ]*total\b", line)]
    assert len(totals) == 2, output
    assert re.search(r"Total\b.*│\s*7\s*│$", totals[0]) and re.search(r"TransactionCount.*│\s*-1\s*│$", totals[1])


def spec_file(tmp_path, **changes):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**INVOICE_SPEC, **changes}))
    return str(path)


@pytest.mark.parametrize(
    ("command", "changes", "message"),
    [
        ("reconcile", {"group_by": "Customer"}, "spec group_by 'Customer' is not the partition key of table {agg}"),
        (
            "backfill",
            {"partition_key": "Customer"},
            "spec partition_key 'Customer' is not the partition key of table {src}",
        ),
        ("backfill", {"sort_key": "Line"}, "spec sort_key 'Line' is not the sort key of table {src}"),
        ("load", {"sort_key": None}, "spec has no sort_key but table {src} has the sort key 'TransactionId'"),
    ],
)
def test_a_spec_that_does_not_fit_the_tables_is_one_line(endpoint, invoices, tmp_path, command, changes, message):
    """Item 8: `KeyError: 'Customer'`."""
    data = tmp_path / "tx.csv"
    data.write_text("InvoiceNumber,TransactionId,Amount,InvoiceDate\nA,1,1,d\n")
    args = [command, str(data)] if command == "load" else [command]
    code, output = cli(endpoint, invoices, *args, "--spec", spec_file(tmp_path, **changes))
    expected = message.format(agg=invoices.aggregate_table, src=invoices.source_table)
    assert code == 1 and output.strip().startswith(f"error: {expected}"), output
    assert output.count("\n") == 1 and endpoint.client("dynamodb").scan(TableName=invoices.source_table)["Count"] == 0


def test_source_items_without_the_group_by_attribute_count_as_invalid(endpoint, tmp_path):
    """Item 8: the handler counts them invalid; so does reconcile, without crashing."""
    aggregator = new_aggregator(endpoint, parse_spec({**INVOICE_SPEC, "group_by": "Region"}))
    put_source(endpoint, aggregator.source_table, "A", "1", "3")
    code, output = cli(endpoint, aggregator, "reconcile", "--spec", spec_file(tmp_path, group_by="Region"))
    assert code == 0 and "1 invalid source item(s) left out" in output


@pytest.mark.parametrize("segments", ["0", "20000", "-1", "two"])
def test_segments_are_bounded_at_parse_time(capsys, segments):
    """Item 11: 0 said `max_workers must be greater than 0`; 20000 hung for minutes."""
    with pytest.raises(SystemExit) as exit_info:
        main(["reconcile", "--segments", segments])
    assert exit_info.value.code == 2
    assert f"argument --segments: must be a whole number from 1 to 64, got {segments!r}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--port", "0", "argument --port: must be a whole number from 1 to 65535, got '0'"),
        ("--seconds", "nan", "argument --seconds: must be a number of seconds above 0 and at most 604800, got 'nan'"),
        ("--endpoint-url", "ftp://x", "argument --endpoint-url: must be an http:// or https:// URL, got 'ftp://x'"),
        ("--source-table", "a b", "argument --source-table: must be a table name (3 to 255 of A-Z a-z 0-9 _ . -)"),
    ],
)
def test_every_option_is_validated_at_parse_time(capsys, option, value, message):
    command = {"--port": ["emulator"], "--seconds": ["demo", "--watch"]}.get(option, ["reconcile"])
    with pytest.raises(SystemExit):
        main([*command, option, value])
    assert message in capsys.readouterr().err


def test_stack_output_values_must_be_table_names(endpoint, tmp_path):
    """Item 11: a number where a table name belongs said `Value (ResourceArn) is the wrong type`."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"source_table_name": 5, "aggregate_table_name": "x"}))
    console = Console(record=True, width=300)
    assert main(["reconcile", "--endpoint-url", endpoint.url, "--stack-outputs", str(outputs)], console) == 1
    text = console.export_text().strip()
    assert text == f"error: stack outputs {outputs}: source_table_name must be a table name, got 5"


def test_a_stack_output_given_twice_is_refused_not_silently_overridden(endpoint, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text('{"source_table_name": "A", "aggregate_table_name": "B", "source_table_name": "Nope"}')
    console = Console(record=True, width=300)
    assert main(["reconcile", "--endpoint-url", endpoint.url, "--stack-outputs", str(outputs)], console) == 1
    assert console.export_text().strip() == f"error: stack outputs {outputs}: source_table_name given twice"


def test_spec_file_errors_name_the_file(endpoint, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_bytes(b'{"partition_key": "\xfd"}')
    console = Console(record=True, width=300)
    assert main(["reconcile", "--endpoint-url", endpoint.url, "--spec", str(spec)], console) == 1
    assert console.export_text().strip() == f"error: {spec}:1: not UTF-8 text (byte 0xfd at column 20)"
    spec.write_text('{"partition_key": "A",\n "measures": []}')
    console = Console(record=True, width=300)
    assert main(["reconcile", "--endpoint-url", endpoint.url, "--spec", str(spec)], console) == 1
    assert console.export_text().strip().startswith(f"error: --spec {spec}: measures must be a non-empty list")


def test_drained_totals_still_reconcile(endpoint, invoices, tmp_path):
    data = tmp_path / "tx.csv"
    data.write_text("InvoiceNumber,TransactionId,Amount,InvoiceDate\nA,1,10.25,d\nA,2,20,d\n")
    assert cli(endpoint, invoices, "load", str(data))[0] == 0
    drain(endpoint, invoices)
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 0 and "0 drift(s) over 1 key(s)" in output


def test_backfill_after_reconcile_repair_adds_nothing_to_the_repaired_keys(endpoint):
    """Adversarial pass (issue 16): `reconcile --repair` on a table that predates its stream sets each key to
    the total of every item, those at enablement included; a later backfill (the runbook's step for such a
    table, or the rerun of one interrupted before reconcile) then ADDed the items at enablement again: OLD
    held 60 for items worth 30, with no error. A repair marks the key as backfilled."""
    live = legacy_source(endpoint, "bfr", [("OLD", "1", "10"), ("OLD", "2", "20")])
    code, output = cli(endpoint, live, "reconcile", "--repair")
    assert code == 0 and "repaired 1 key(s)" in output
    code, output = cli(endpoint, live, "backfill", ledger=True)
    assert code == 0 and "backfilled 0 aggregate(s)" in output and "1 already done" in output
    assert aggregate(endpoint, live, "OLD")["Total"] == {"N": "30"}
    assert cli(endpoint, live, "reconcile")[0] == 0


@pytest.fixture
def calls(monkeypatch):
    """(operation, parameters) of every DynamoDB call the commands make, seen through a botocore event hook on
    a fresh default session (every client the commands make comes from it)."""
    session = boto3.session.Session()
    seen = []
    session.events.register(
        "provide-client-params.dynamodb.*",
        lambda event_name, params, **_: seen.append((event_name.rsplit(".", 1)[-1], dict(params))),
    )
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return seen


def three_drifted_keys(endpoint, invoices):
    for invoice, amount in (("A", "10"), ("B", "20"), ("C", "30")):
        put_source(endpoint, invoices.source_table, invoice, "1", amount)
        put_aggregate(endpoint, invoices, invoice, Total={"N": "1"}, TransactionCount={"N": "1"})


def test_reconcile_key_repairs_the_key_named_and_only_it(endpoint, invoices, calls):
    """Issue 17 item 4: replay names keys; reconcile --key checks and repairs just those, by a Query of
    the source (group_by is its partition key), never a scan of either table."""
    three_drifted_keys(endpoint, invoices)
    code, output = cli(endpoint, invoices, "reconcile", "--key", "S:B")
    assert code == 3 and "1 drift(s) over 1 key(s)" in output and "S:A" not in output and "S:C" not in output
    code, output = cli(endpoint, invoices, "reconcile", "--key", "S:B", "--repair")
    assert code == 0 and "repaired 1 key(s)" in output, output
    operations = {name for name, _ in calls}
    assert "Scan" not in operations and "Query" in operations, operations
    assert aggregate(endpoint, invoices, "B")["Total"] == {"N": "20"}
    assert aggregate(endpoint, invoices, "B")[BACKFILL_MARKER] == {"S": REPAIRED}
    assert [aggregate(endpoint, invoices, key)["Total"] for key in "AC"] == [{"N": "1"}, {"N": "1"}]
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 3 and "2 drift(s) over 3 key(s)" in output and "S:B" not in output


def test_keys_from_reads_one_key_a_line_and_reports_keys_in_neither_table(endpoint, invoices, tmp_path):
    three_drifted_keys(endpoint, invoices)
    keys = tmp_path / "keys.txt"
    keys.write_text("S:A\r\n\nS:NOWHERE\nS:A\nS:B \n")
    code, output = cli(endpoint, invoices, "reconcile", "--keys-from", str(keys), "--key", "S:C", "--repair")
    assert code == 0 and "repaired 2 key(s)" in output and "over 4 key(s)" in output, output
    assert "in neither table (no source item counts for it, no aggregate): S:NOWHERE, S:B " in output
    assert "note: 'B ' has white space at an end: it is part of the key asked for" in output, output
    assert [aggregate(endpoint, invoices, key)["Total"] for key in "ABC"] == [{"N": "10"}, {"N": "1"}, {"N": "30"}]
    assert aggregate(endpoint, invoices, "NOWHERE") is None


def test_reconcile_key_by_another_attribute_than_the_partition_key_scans_with_a_filter(endpoint, tmp_path, calls):
    spec = {**INVOICE_SPEC, "group_by": "Region"}
    regional = new_aggregator(endpoint, parse_spec(spec))
    dynamodb = endpoint.client("dynamodb")
    for invoice, region, amount in (("I1", "north", "5"), ("I2", "north", "7"), ("I3", "south", "11")):
        item = {"InvoiceNumber": {"S": invoice}, "TransactionId": {"S": "1"}, "Amount": {"N": amount}}
        dynamodb.put_item(
            TableName=regional.source_table, Item={**item, "InvoiceDate": {"S": "d"}, "Region": {"S": region}}
        )
    code, output = cli(
        endpoint,
        regional,
        "reconcile",
        "--key",
        "S:north",
        "--repair",
        "--spec",
        spec_file(tmp_path, group_by="Region"),
    )
    assert code == 0 and "repaired 1 key(s)" in output and "S:south" not in output, output
    scanned = [params for name, params in calls if name == "Scan" and params["TableName"] == regional.source_table]
    assert scanned and all(params.get("FilterExpression") == "#a0 IN (:v0_0)" for params in scanned), scanned
    stored = dynamodb.get_item(TableName=regional.aggregate_table, Key={"Region": {"S": "north"}})["Item"]
    assert stored["Total"] == {"N": "12"} and stored["TransactionCount"] == {"N": "2"}
    assert "Item" not in dynamodb.get_item(TableName=regional.aggregate_table, Key={"Region": {"S": "south"}})


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("B", "--key 'B': write a key as reconcile and replay print it: S:<text>, N:<number> or B:<base64>"),
        ("N:5", "--key 'N:5': the aggregate table's key 'InvoiceNumber' has type S, not N"),
        ("S:", "--key 'S:': '' is not a S value of 'InvoiceNumber': group_by attribute 'InvoiceNumber' has a 0-byte"),
    ],
)
def test_a_key_the_spec_cannot_produce_is_one_line_and_nothing_is_written(endpoint, invoices, key, message):
    three_drifted_keys(endpoint, invoices)
    code, output = cli(endpoint, invoices, "reconcile", "--repair", "--key", "S:A", "--key", key)
    assert code == 1 and output.count("\n") == 1 and output.startswith(f"error: {message}"), output
    assert aggregate(endpoint, invoices, "A")["Total"] == {"N": "1"}


def invoice_a_with_drifted_entries(endpoint, invoices):
    """A's items are 30 and 5 and its sums right, but its LargestTransaction entries are wrong three ways."""
    for transaction, amount in (("1", "30"), ("2", "5")):
        put_source(endpoint, invoices.source_table, "A", transaction, amount)
    put_aggregate(endpoint, invoices, "A", Total={"N": "35"}, TransactionCount={"N": "2"})
    put_entry(endpoint, invoices, "A", "1", "7")  # wrong: item 1 holds 30
    put_entry(endpoint, invoices, "A", "3", "99")  # stray: item 3 was removed, its entry left behind
    # missing: item 2 (5) has no entry, so removing item 1 would show no next maximum


def test_reconcile_finds_each_wrong_missing_and_stray_extremes_entry_and_repair_rebuilds_them(endpoint, invoices):
    invoice_a_with_drifted_entries(endpoint, invoices)
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 3 and "0 drift(s) over 1 key(s)" in output and "1 min/max drift(s)" in output, output
    row = next(line for line in output.splitlines() if "LargestTransaction" in line)
    cells = [cell.strip() for cell in row.split("│")[3:8]]
    assert cells == ["30", "99", "1", "1", "1"], row  # expected, actual (as a Query shows it), missing, stray, wrong
    code, output = cli(endpoint, invoices, "reconcile", "--repair")
    assert code == 0 and "rebuilt the min/max entries of 1 key and measure pair(s): 3 entry(ies)" in output, output
    a = ("S:A", "LargestTransaction")
    assert entries(endpoint, invoices) == {a: {item_token("S:A", "S:1"): "30", item_token("S:A", "S:2"): "5"}}
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 0 and "min/max" not in output, output


def test_reconcile_output_json_gives_each_extremes_drift_exactly(endpoint, invoices, capsys):
    invoice_a_with_drifted_entries(endpoint, invoices)
    argv = ["reconcile", "--output", "json", *ops_argv(endpoint.url, invoices)]
    code, out, _ = run(capsys, [*argv])
    document = json.loads(out)
    assert code == 3 and document["drifts"] == []
    assert document["extremes"] == [
        {
            "key": "S:A",
            "measure": "LargestTransaction",
            "op": "max",
            "expected": "30",
            "actual": "99",
            "missing": 1,
            "stray": 1,
            "wrong": 1,
        }
    ]


def test_reconcile_key_reads_and_repairs_the_entries_of_the_key_named_only(endpoint, invoices, calls):
    invoice_a_with_drifted_entries(endpoint, invoices)
    put_source(endpoint, invoices.source_table, "B", "1", "8")
    put_aggregate(endpoint, invoices, "B", Total={"N": "8"}, TransactionCount={"N": "1"})  # B's entry missing
    code, output = cli(endpoint, invoices, "reconcile", "--key", "S:A", "--repair")
    assert code == 0 and "3 entry(ies) written or deleted" in output, output
    assert "Scan" not in {name for name, _ in calls}
    assert set(entries(endpoint, invoices)) == {("S:A", "LargestTransaction")}
    code, output = cli(endpoint, invoices, "reconcile")
    assert code == 3 and "S:B" in output and "S:A" not in output


def test_an_entry_the_handler_writes_meanwhile_is_skipped_not_overwritten(endpoint, invoices, monkeypatch):
    """Each entry's repair is conditional on the entry as read: a stream write in between wins."""
    invoice_a_with_drifted_entries(endpoint, invoices)
    import ops.reconcile

    writes = ops.reconcile.entry_writes

    def handler_writes_first(table, drift):
        put_entry(endpoint, invoices, "A", "1", "31")  # the handler applied a MODIFY of item 1 since the read
        return writes(table, drift)

    monkeypatch.setattr(ops.reconcile, "entry_writes", handler_writes_first)
    code, output = cli(endpoint, invoices, "reconcile", "--repair")
    assert code == 3 and "skipped 1 key(s) the stream updated meanwhile" in output, output
    assert entries(endpoint, invoices)[("S:A", "LargestTransaction")][item_token("S:A", "S:1")] == "31"


@pytest.mark.parametrize(
    "table, message",
    [
        ("nope", "error: extremes table nope does not exist: give --extremes-table, or --stack-outputs"),
        (None, "is not an extremes table: its key is"),  # the ledger table named instead
    ],
)
def test_a_wrong_extremes_table_is_one_line_and_nothing_is_written(endpoint, invoices, table, message):
    invoice_a_with_drifted_entries(endpoint, invoices)
    named = table or invoices.ledger_table
    code = main(
        ["reconcile", "--repair", *ops_argv(endpoint.url, invoices), "--extremes-table", named],
        console := Console(record=True, width=200),
    )
    assert code == 1 and message in console.export_text(), console.export_text()
    assert aggregate(endpoint, invoices, "A")["Total"] == {"N": "35"} and len(entries(endpoint, invoices)) == 1


SINGLE_SOURCE = {
    "partition_key": "InvoiceNumber",
    "measures": [
        {"name": "Total", "op": "sum", "attribute": "Amount"},
        {"name": "Largest", "op": "max", "attribute": "Amount"},
        {"name": "FirstDate", "op": "min", "attribute": "InvoiceDate", "type": "S"},
    ],
}


def test_a_single_source_min_max_is_checked_and_repaired_on_the_aggregate_item(endpoint, tmp_path):
    """One source item per key: its value is the min and the max, held by the aggregate item (no extremes table)."""
    aggregator = new_aggregator(endpoint, parse_spec(SINGLE_SOURCE))
    assert aggregator.extremes_table is None
    dynamodb = endpoint.client("dynamodb")
    for invoice, amount, date in (("A", "30", "2026-11-28"), ("B", "8", "2026-01-02")):
        item = {"InvoiceNumber": {"S": invoice}, "Amount": {"N": amount}, "InvoiceDate": {"S": date}}
        dynamodb.put_item(TableName=aggregator.source_table, Item=item)
    put_aggregate(endpoint, aggregator, "A", Total={"N": "30"}, Largest={"N": "7"})  # wrong; FirstDate missing
    put_aggregate(endpoint, aggregator, "B", Total={"N": "8"}, Largest={"N": "8.0"}, FirstDate={"S": "2026-01-02"})
    put_aggregate(endpoint, aggregator, "C", Largest={"N": "5"})  # no item C: a stray value
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SINGLE_SOURCE))
    code, output = cli(endpoint, aggregator, "reconcile", "--spec", str(path))
    assert code == 3 and "3 min/max drift(s)" in output and "S:B" not in output, output
    code, output = cli(endpoint, aggregator, "reconcile", "--spec", str(path), "--repair")
    assert code == 0 and "repaired 2 key(s)" in output, output
    a, c = aggregate(endpoint, aggregator, "A"), aggregate(endpoint, aggregator, "C")
    assert (a["Largest"], a["FirstDate"], a["Total"]) == ({"N": "30"}, {"S": "2026-11-28"}, {"N": "30"})
    assert "Largest" not in c
    assert cli(endpoint, aggregator, "reconcile", "--spec", str(path))[0] == 0


def test_an_avg_drifts_with_its_stored_sum_and_reconcile_shows_and_repairs_it(endpoint, tmp_path, capsys):
    """An avg is its stored sum and count: a wrong sum is a drift of AverageOrder_sum, shown with the average
    it makes a reader see, and repaired like any sum."""
    from tests.integration.test_cli import MEASURED

    aggregator = new_aggregator(endpoint, parse_spec(MEASURED))
    dynamodb = endpoint.client("dynamodb")
    for order, amount in (("1", "10"), ("2", "20")):
        item = {"CustomerId": {"S": "C1"}, "OrderId": {"S": order}, "Amount": {"N": amount}}
        dynamodb.put_item(TableName=aggregator.source_table, Item={**item, "OrderDate": {"S": "2026-11-28"}})
    drain(endpoint, aggregator)
    dynamodb.update_item(
        TableName=aggregator.aggregate_table,
        Key={"CustomerId": {"S": "C1"}},
        UpdateExpression="SET AverageOrder_sum = :s",
        ExpressionAttributeValues={":s": {"N": "31"}},
    )
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(MEASURED))
    code, output = cli(endpoint, aggregator, "reconcile", "--spec", str(spec))
    assert code == 3 and "AverageOrder_sum" in output and "S:C1 AverageOrder (avg): expected 15, reads 15.5" in output
    argv = ["reconcile", "--output", "json", "--spec", str(spec), *ops_argv(endpoint.url, aggregator)]
    code, out, _ = run(capsys, argv)
    assert json.loads(out)["averages"] == [
        {"key": "S:C1", "measure": "AverageOrder", "expected": "15", "actual": "15.5"}
    ]
    assert cli(endpoint, aggregator, "reconcile", "--spec", str(spec), "--repair")[0] == 0
    assert cli(endpoint, aggregator, "reconcile", "--spec", str(spec))[0] == 0
