"""Recomputing, comparing and repairing exactly, whatever type a measure is stored with: pure."""

import decimal
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from rich.console import Console

import ops.__main__ as cli
from aggregations import INVOICE_AGGREGATION
from handler.spec import parse_spec
from ops.errors import CommandError
from ops.reconcile import drift_table, measure_totals, repair_request
from ops.recount import Drift, Report, actual_totals, compare, recompute, unstorable_totals
from ops.tables import aggregate_problem, source_problem
from ops.targets import Target, TargetError, resolve_target

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


@dataclass
class ScriptedTables:
    """The source and aggregate tables as reconcile reads them; the ``fail_at``-th write raises ``error``."""

    source: list
    fail_at: int
    error: BaseException
    writes: list = field(default_factory=list)

    def describe_table(self, TableName):
        keys = [("InvoiceNumber", "HASH")] + ([("TransactionId", "RANGE")] if TableName == "Src" else [])
        if TableName == "Ext":
            keys = [("k", "HASH"), ("i", "RANGE")]
        return {
            "Table": {
                "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in keys],
                "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
            }
        }

    def scan(self, **request):
        return {"Items": self.source if request["TableName"] == "Src" and request["Segment"] == 0 else []}

    def update_item(self, **request):
        if len(self.writes) == self.fail_at:
            raise self.error
        self.writes.append(request)
        return {}

    put_item = delete_item = update_item  # the extremes table's entries


@dataclass(frozen=True)
class ScriptedTarget(Target):
    tables: Any = None

    def client(self, service, config=None):
        return self.tables


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(KeyboardInterrupt(), 130, id="ctrl-c"),
        pytest.param(
            ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "UpdateItem"), 1, id="aws"
        ),
    ],
)
@pytest.mark.parametrize(
    ("fail_at", "told"),
    [
        (2, "repairing 2 of 12 drifted key(s) and min/max entry set(s) (0 min/max entry(ies) written or deleted;"),
        (8, "repairing 6 of 12 drifted key(s) and min/max entry set(s) (2 min/max entry(ies) written or deleted;"),
    ],
)
def test_a_repair_stopped_midway_says_how_far_it_got(monkeypatch, error, code, fail_at, told):
    """Adversarial pass: `reconcile --repair` stopped midway exited 130 in silence, or with AWS's error alone.
    Six keys, each with its sums and its LargestTransaction entry to write: stopped among either."""
    tables = ScriptedTables([image(f"K{n}", "1", "5") for n in range(6)], fail_at=fail_at, error=error)
    target = ScriptedTarget(None, "Src", "Agg", SPEC, extremes_table="Ext", tables=tables)
    monkeypatch.setattr("ops.reconcile.resolve_target", lambda args: target)
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["reconcile", "--repair"], console=console) == code
    output = console.export_text()
    assert f"--repair stopped after {told} skipping 0)" in output, output
    assert "run reconcile again" in output and len(tables.writes) == fail_at


ORDERS_STREAM = "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders/stream/2026-12-04T10:00:00.000"


class OneKeyTable:
    """Any table keyed by InvoiceNumber alone, so a source table and an aggregate table look the same; its
    stream holds no record (DynamoDB and DynamoDB Streams in one scripted client)."""

    def __init__(self):
        self.writes = []

    def describe_table(self, TableName):
        key = {"AttributeName": "InvoiceNumber", "AttributeType": "S"}
        return {
            "Table": {
                "KeySchema": [{"AttributeName": "InvoiceNumber", "KeyType": "HASH"}],
                "AttributeDefinitions": [key],
                "LatestStreamArn": ORDERS_STREAM,
            }
        }

    def scan(self, **request):
        return {"Items": [image("A", "1", "5")] if request["Segment"] == 0 else []}

    def describe_stream(self, StreamArn):
        return {"StreamDescription": {"StreamStatus": "ENABLED", "Shards": []}}

    def update_item(self, **request):
        self.writes.append(request)


@pytest.mark.parametrize("command", ["reconcile", "backfill"])
def test_the_same_table_as_source_and_aggregate_is_refused(monkeypatch, command):
    """Adversarial pass: with a spec keyed by its group_by alone, `--aggregate-table` naming the source table
    passed every check, and `reconcile --repair` wrote totals over the source items."""
    spec = parse_spec({key: value for key, value in INVOICE_AGGREGATION.items() if key != "sort_key"})
    table = OneKeyTable()
    target = ScriptedTarget(None, "Orders", "Orders", spec, tables=table)
    monkeypatch.setattr(f"ops.{command}.resolve_target", lambda args: target)
    console = Console(record=True, width=400, file=io.StringIO())
    argv = [command, "--repair"] if command == "reconcile" else [command]
    assert cli.main(argv, console=console) == 1
    assert "error: the source table and the aggregate table are both Orders" in console.export_text()
    assert table.writes == []


@pytest.mark.parametrize("command", ["reconcile", "backfill", "load"])
def test_a_spec_that_is_not_the_stacks_aggregation_is_refused(tmp_path, command):
    """Adversarial pass: `--spec` silently overrode the aggregation in `--stack-outputs`; a stale spec file
    (another measure summed) made reconcile --repair rewrite right totals and backfill add the wrong sums."""
    outputs = tmp_path / "outputs.json"
    exported = json.dumps(INVOICE_AGGREGATION)
    names = {"source_table_name": "Src", "aggregate_table_name": "Agg"}
    outputs.write_text(json.dumps({**names, "aggregation": exported}))
    stale = tmp_path / "spec.json"
    stale.write_text(
        json.dumps({**INVOICE_AGGREGATION, "measures": [{"name": "Total", "op": "sum", "attribute": "Tax"}]})
    )
    same = tmp_path / "same.json"
    same.write_text(exported)
    extra = ["data.csv"] if command == "load" else []
    argv = [command, *extra, "--aws", "--stack-outputs", str(outputs), "--spec"]
    with pytest.raises(TargetError, match=f"--spec {stale} is not the aggregation the stack exports"):
        resolve_target(cli.build_parser().parse_args([*argv, str(stale)]))
    assert resolve_target(cli.build_parser().parse_args([*argv, str(same)])).spec == SPEC


@pytest.mark.parametrize(
    ("flag", "output"), [("--source-table", "source_table_name"), ("--aggregate-table", "aggregate_table_name")]
)
def test_a_table_flag_that_is_not_the_stacks_table_is_refused(tmp_path, flag, output):
    """Adversarial pass: a table flag silently overrode --stack-outputs, pairing one stack's source with
    another's aggregates; reconcile --repair then rewrote right totals from the wrong source."""
    outputs = tmp_path / "outputs.json"
    names = {"source_table_name": "Src", "aggregate_table_name": "Agg"}
    outputs.write_text(json.dumps({**names, "aggregation": json.dumps(INVOICE_AGGREGATION)}))
    argv = ["reconcile", "--aws", "--stack-outputs", str(outputs), flag]
    with pytest.raises(TargetError, match=f"{flag} Other is not the stack's {output} {names[output]}"):
        resolve_target(cli.build_parser().parse_args([*argv, "Other"]))
    target = resolve_target(cli.build_parser().parse_args([*argv, names[output]]))
    assert (target.source_table, target.aggregate_table) == ("Src", "Agg")
