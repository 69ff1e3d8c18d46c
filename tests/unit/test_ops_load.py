"""`load` stopped midway, with a scripted DynamoDB client: it says how far it got."""

import io
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

import ops.__main__ as cli
from aggregations import INVOICE_AGGREGATION
from handler.spec import parse_spec
from ops.targets import Target


@dataclass
class ScriptedSource:
    """The source table as load sees it; the second BatchWriteItem is interrupted (Ctrl-C)."""

    batches: list = field(default_factory=list)

    def describe_table(self, TableName):
        keys = [("InvoiceNumber", "HASH"), ("TransactionId", "RANGE")]
        return {
            "Table": {
                "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in keys],
                "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
            }
        }

    def batch_write_item(self, RequestItems):
        if self.batches:
            raise KeyboardInterrupt
        self.batches.append(RequestItems)
        return {}


@dataclass(frozen=True)
class ScriptedTarget(Target):
    source: Any = None

    def client(self, service, config=None):
        return self.source


def test_a_load_interrupted_midway_says_how_many_rows_are_in_and_that_loading_again_is_safe(monkeypatch, tmp_path):
    """Adversarial pass: Ctrl-C during a load exited 130 in silence, the operator left to guess what landed."""
    data = tmp_path / "tx.csv"
    rows = "".join(f"A,{n},5,06062016\n" for n in range(30))
    data.write_text("InvoiceNumber,TransactionId,Amount,InvoiceDate\n" + rows)
    source = ScriptedSource()
    target = ScriptedTarget(None, "Src", "Agg", parse_spec(INVOICE_AGGREGATION), source=source)
    monkeypatch.setattr("ops.load.resolve_target", lambda args: target)
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["load", str(data)], console=console) == 130
    output = console.export_text()
    assert "interrupted: 25 of 30 row(s) are in Src" in output and "loading the file again" in output


def test_a_load_into_the_aggregate_table_is_refused(monkeypatch, tmp_path):
    """Adversarial pass: `--source-table` naming the aggregate table (keyed by group_by alone, as a spec with no
    sort key has its source) loaded transactions over the aggregates."""
    data = tmp_path / "tx.jsonl"
    data.write_text('{"InvoiceNumber": "A", "Amount": 5, "InvoiceDate": "06062016"}\n')
    spec = parse_spec({key: value for key, value in INVOICE_AGGREGATION.items() if key != "sort_key"})
    source = OneKey()
    monkeypatch.setattr("ops.load.resolve_target", lambda args: ScriptedTarget(None, "Agg", "Agg", spec, source=source))
    console = Console(record=True, width=400, file=io.StringIO())
    assert cli.main(["load", str(data)], console=console) == 1
    assert "error: the source table and the aggregate table are both Agg" in console.export_text()
    assert source.batches == []


class OneKey(ScriptedSource):
    def describe_table(self, TableName):
        key = {"AttributeName": "InvoiceNumber", "KeyType": "HASH"}
        return {
            "Table": {
                "KeySchema": [key],
                "AttributeDefinitions": [{"AttributeName": "InvoiceNumber", "AttributeType": "S"}],
            }
        }
