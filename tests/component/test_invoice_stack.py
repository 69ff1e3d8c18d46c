"""The invoice stack (__main__.py) under mocks, against a checked-in snapshot of its resource graph,
so reviewers see an infrastructure change as a diff. Refresh with UPDATE_SNAPSHOTS=1 make test."""

import json
import os
import runpy
from pathlib import Path

import pulumi
import yaml

from tests.component.conftest import autonamed, one

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "snapshots" / "invoice_stack.prod.json"


def run_stack(deploy, stack_file: str):
    config = yaml.safe_load((ROOT / stack_file).read_text())["config"]
    pulumi.runtime.set_all_config(
        {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in config.items()}
    )
    try:
        return deploy(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))
    finally:
        pulumi.runtime.set_all_config({})


def graph(resources) -> list[dict]:
    return [
        {"type": r.typ, "name": r.name, "inputs": {k: v for k, v in sorted(r.inputs.items()) if k != "code"}}
        for r in sorted(resources, key=lambda r: (r.typ, r.name))
    ]


def test_invoice_stack_matches_snapshot(deploy):
    current = json.dumps(graph(run_stack(deploy, "Pulumi.prod.yaml")), indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), "the invoice stack changed: review, then UPDATE_SNAPSHOTS=1 make test"


def test_prod_settings_reach_the_resources(deploy):
    resources = run_stack(deploy, "Pulumi.prod.yaml")
    source = one(resources, "aws:dynamodb/table:Table", "invoices-source").inputs
    assert source["name"] == "InvoiceTransactions-prod" and source["deletionProtectionEnabled"] is True
    assert one(resources, "aws:dynamodb/table:Table", "invoices-aggregate").inputs["name"] == "InvoiceTotal-prod"
    assert one(resources, "aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 365
    alarm = one(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "invoices-errors").inputs
    assert alarm["alarmActions"] == ["arn:aws:sns:us-east-1:123456789012:invoicing-oncall"]


def test_dev_has_no_deletion_protection(deploy):
    resources = run_stack(deploy, "Pulumi.dev.yaml")
    assert one(resources, "aws:dynamodb/table:Table", "invoices-source").inputs["deletionProtectionEnabled"] is False
    assert one(resources, "aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 14


def test_the_stack_keeps_the_largest_transaction_in_an_exported_extremes_table(deploy, monkeypatch):
    """The invoice aggregation's max (LargestTransaction) spans many transactions per invoice."""
    exported: dict[str, object] = {}

    def export(name, value):
        pulumi.Output.from_input(value).apply(lambda resolved: exported.update({name: resolved}))

    monkeypatch.setattr(pulumi, "export", export)
    resources = run_stack(deploy, "Pulumi.prod.yaml")
    table = one(resources, "aws:dynamodb/table:Table", "invoices-extremes").inputs
    assert table["deletionProtectionEnabled"] is True, "prod protects every table"
    assert exported["extremes_table_name"] == autonamed("invoices-extremes")
    assert exported["ledger_table_name"] == autonamed("invoices-ledger")
    variables = one(resources, "aws:lambda/function:Function").inputs["environment"]["variables"]
    assert variables["EXTREMES_TABLE_NAME"] == exported["extremes_table_name"]
