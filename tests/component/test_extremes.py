"""min and max measures under mocks: the extremes table exactly when an aggregation needs one (a min
or max over many source items per aggregate key), its shape as the handler reads it, the Lambda's
grant on it statement by statement, its variable, output, alarm and dashboard graph, the same table as
ops/local creates for the emulator; and the types a min or max refuses at construction.

The table's key, value and index names are the handler's (handler/extremes.py), never retyped here
but where a test pins what the contract between the handler and its readers says."""

import json

import pulumi_aws as aws
import pytest

from aggregations import INVOICE_AGGREGATION, ORDERS_AGGREGATION
from components import StreamAggregator
from components.errors import StreamAggregatorArgsError, StreamAggregatorError
from components.help_text import field_docs
from components.policies import table_statements
from components.stream_aggregator import StreamAggregatorArgs
from handler.config import load_config
from handler.extremes import EXTREMES_ITEM, EXTREMES_KEY, INDEX_NAME, VALUE_ATTRIBUTE
from handler.spec import MAX_EXTREMES, MAX_MEASURES
from ops.local.local_resources import create_extremes_table
from tests.component.conftest import autonamed, by_type, one

TABLE, FUNCTION = "aws:dynamodb/table:Table", "aws:lambda/function:Function"
ALARM, DASHBOARD = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/dashboard:Dashboard"
POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"
LARGEST = {"name": "LargestTransaction", "op": "max", "attribute": "Amount"}
ACCOUNT_BALANCE = {"partition_key": "AccountId", "measures": [{"name": "Top", "op": "max", "attribute": "Amount"}]}
"""Single-source: each aggregate item has one source item, whose value is its own min and max."""


def statements(resources) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(one(resources, POLICY).inputs["policy"])["Statement"]}


def variables(resources) -> dict[str, str]:
    return one(resources, FUNCTION).inputs["environment"]["variables"]


@pytest.fixture
def invoices(deploy):
    return deploy(lambda: StreamAggregator("inv", {**INVOICE_AGGREGATION, "kms_key_arn": KEY, "tags": {"app": "x"}}))


def test_the_invoice_example_keeps_the_largest_transaction_per_invoice():
    """The example the issue asks for: the stack and `make demo` deploy this aggregation."""
    assert LARGEST in INVOICE_AGGREGATION["measures"]


def test_the_extremes_table_is_keyed_by_group_and_measure_then_source_item(invoices):
    table = one(invoices, TABLE, "inv-extremes").inputs
    assert (table["hashKey"], table["rangeKey"]) == (EXTREMES_KEY, EXTREMES_ITEM) == ("k", "i")
    assert table["attributes"] == [
        {"name": "k", "type": "S"},
        {"name": "i", "type": "S"},
        {"name": "n", "type": "N"},
        {"name": "s", "type": "S"},
    ]
    assert {kind.value: name for kind, name in VALUE_ATTRIBUTE.items()} == {"N": "n", "S": "s"}


def test_both_value_indexes_exist_whatever_types_the_measures_declare(invoices):
    """A local index is created with its table or never: a later "S" measure needs by_s already there."""
    indexes = one(invoices, TABLE, "inv-extremes").inputs["localSecondaryIndexes"]
    assert indexes == [
        {"name": "by_n", "rangeKey": "n", "projectionType": "KEYS_ONLY"},
        {"name": "by_s", "rangeKey": "s", "projectionType": "KEYS_ONLY"},
    ]
    assert [index["name"] for index in indexes] == list(INDEX_NAME.values())


def test_the_extremes_table_is_billed_recovered_encrypted_and_tagged_as_the_others(invoices):
    table = one(invoices, TABLE, "inv-extremes").inputs
    aggregate = one(invoices, TABLE, "inv-aggregate").inputs
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == aggregate["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KEY}
    assert table["tags"] == aggregate["tags"] == {"app": "x"}
    assert table["deletionProtectionEnabled"] is aggregate["deletionProtectionEnabled"] is False
    assert "ttl" not in table, "an entry lives as long as its item contributes: nothing may expire it"
    assert "name" not in table and "streamEnabled" not in table, "autonamed, and nothing reads a stream of it"


@pytest.mark.parametrize("protected", [True, False])
def test_deletion_protection_covers_the_extremes_table(deploy, protected):
    resources = deploy(lambda: StreamAggregator("inv", {**INVOICE_AGGREGATION, "deletion_protection": protected}))
    assert one(resources, TABLE, "inv-extremes").inputs["deletionProtectionEnabled"] is protected


def test_the_handler_is_told_the_table(invoices):
    assert variables(invoices)["EXTREMES_TABLE_NAME"] == autonamed("inv-extremes")
    assert load_config(variables(invoices)).extremes_table_name == autonamed("inv-extremes")


def test_the_output_is_the_table_or_none(deploy):
    created = []
    resources = deploy(
        lambda: created.extend(
            [StreamAggregator("inv", INVOICE_AGGREGATION), StreamAggregator("orders", ORDERS_AGGREGATION)]
        )
    )
    invoices, orders = created
    assert isinstance(invoices.extremes_table, aws.dynamodb.Table) and orders.extremes_table is None
    assert one(resources, TABLE, "inv-extremes"), "the one it created (the stack test reads its name)"


def test_the_lambda_may_only_put_and_delete_entries_inside_transactions(invoices):
    """Exactly the actions the ledger store's transactions hold on the table; no read (readers Query it)."""
    table_arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{autonamed('inv-extremes')}"
    granted = statements(invoices)
    assert granted["WriteExtremesInTransactions"] == {
        "Sid": "WriteExtremesInTransactions",
        "Effect": "Allow",
        "Action": ["dynamodb:DeleteItem", "dynamodb:PutItem"],
        "Resource": table_arn,
        "Condition": {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}},
    }
    others = [s for sid, s in granted.items() if sid != "WriteExtremesInTransactions"]
    assert not any(table_arn in json.dumps(s) for s in others), "no other statement reaches the table"
    assert set(granted) == {
        "ReadSourceStream",
        "ListStreams",
        "WriteAggregatesInTransactions",
        "ReadLedgerEntries",
        "WriteExtremesInTransactions",
        "SendToQueues",
        "WriteLogs",
        "DecryptStream",
        "WriteTraces",
    }


def test_its_throttled_writes_alarm_as_the_other_tables_do(invoices):
    alarms = {a.name: a.inputs for a in by_type(invoices, ALARM)}
    ours, ledger = alarms["inv-extremes-throttles"], alarms["inv-ledger-throttles"]
    (metric, filled) = ours["metricQueries"]
    assert metric["metric"]["dimensions"] == {"TableName": autonamed("inv-extremes")}
    assert metric["metric"]["metricName"] == "WriteThrottleEvents" and metric["metric"]["namespace"] == "AWS/DynamoDB"
    assert filled["expression"] == "FILL(m, 0)"
    for setting in ("datapointsToAlarm", "evaluationPeriods", "threshold", "treatMissingData"):
        assert ours[setting] == ledger[setting], setting
    assert "extremes table" in ours["alarmDescription"] and "Runbook: Alarms." in ours["alarmDescription"]


def test_the_dashboard_graphs_its_throttles_and_write_units(invoices):
    body = json.loads(one(invoices, DASHBOARD).inputs["dashboardBody"])
    rows = [row for w in body["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]
    ours = [row for row in rows if row[3] == autonamed("inv-extremes")]
    assert [(row[1], row[4]["label"]) for row in ours] == [
        ("WriteThrottleEvents", "extremes throttled"),
        ("ConsumedWriteCapacityUnits", "extremes write units"),
    ]
    (alarms,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert any(arn.endswith(autonamed("inv-extremes-throttles")) for arn in alarms["properties"]["alarms"])


class CreateTableRecorder:
    """Stands in for ops/local's endpoint: the one dynamodb client call, recorded instead of sent."""

    def __init__(self) -> None:
        self.requests: list[dict] = []

    def client(self, service: str) -> "CreateTableRecorder":
        assert service == "dynamodb"
        return self

    def create_table(self, **request) -> None:
        self.requests.append(request)


def test_the_local_emulator_creates_the_table_the_component_does(invoices):
    """ops/local writes the shape again as a CreateTable request (the handler's integration tests run on
    it); the two are compared here, so a change to one cannot leave the other behind."""
    recorder = CreateTableRecorder()
    create_extremes_table(recorder, "local-extremes")
    (request,) = recorder.requests
    table = one(invoices, TABLE, "inv-extremes").inputs

    def keyed(sort_key: str) -> list[dict]:
        return [
            {"AttributeName": table["hashKey"], "KeyType": "HASH"},
            {"AttributeName": sort_key, "KeyType": "RANGE"},
        ]

    assert request["KeySchema"] == keyed(table["rangeKey"])
    assert request["AttributeDefinitions"] == [
        {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]
    ]
    indexes = [(index["name"], index["rangeKey"], index["projectionType"]) for index in table["localSecondaryIndexes"]]
    assert request["LocalSecondaryIndexes"] == [
        {"IndexName": name, "KeySchema": keyed(value), "Projection": {"ProjectionType": kind}}
        for name, value, kind in indexes
    ]
    assert request["BillingMode"] == table["billingMode"] and "TimeToLiveSpecification" not in request


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(ORDERS_AGGREGATION, id="no-min-or-max"),
        pytest.param(
            {**ORDERS_AGGREGATION, "measures": [{"name": "AvgOrder", "op": "avg", "attribute": "Amount"}]}, id="avg"
        ),
        pytest.param(ACCOUNT_BALANCE, id="single-source-max"),
    ],
)
def test_no_extremes_table_unless_a_min_or_max_spans_many_items(deploy, args):
    """An avg is two numbers on the aggregate item; a single-source aggregate item holds its item's value."""
    resources = deploy(lambda: StreamAggregator("a", args))
    assert not [t.name for t in by_type(resources, TABLE) if t.name.endswith("-extremes")]
    assert "EXTREMES_TABLE_NAME" not in variables(resources)
    assert "WriteExtremesInTransactions" not in statements(resources)
    assert "a-extremes-throttles" not in {a.name for a in by_type(resources, ALARM)}
    assert "extremes" not in one(resources, DASHBOARD).inputs["dashboardBody"]


def test_a_min_over_a_composite_group_gets_the_table(deploy):
    args = {
        "partition_key": "OrderId",
        "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}],
        "measures": [{"name": "FirstOrder", "op": "min", "attribute": "OrderDate", "type": "S"}],
    }
    resources = deploy(lambda: StreamAggregator("daily", args))
    assert one(resources, TABLE, "daily-extremes")
    assert variables(resources)["EXTREMES_TABLE_NAME"] == autonamed("daily-extremes")


def test_an_extremes_grant_without_a_ledger_is_refused():
    """Single-source aggregates write outside transactions: a grant for entries there would be a bug."""
    with pytest.raises(StreamAggregatorError, match="extremes table without a ledger"):
        table_statements("arn:aws:dynamodb:r:1:table/a", None, "arn:aws:dynamodb:r:1:table/e")


ORDERS = {"partition_key": "OrderId", "group_by": "CustomerId", "measures": [{"name": "OrderCount", "op": "count"}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"measures": [{"name": "Top", "op": "max", "attribute": "Blob", "type": "B"}]},
            r"measures\[0\] \('Top'\)\.type 'B' cannot be ordered",
            id="binary-type",
        ),
        pytest.param(
            {"measures": [{"name": "Top", "op": "max", "attribute": "Tags", "type": "SS"}]},
            r"'SS' cannot be ordered",
            id="set-type",
        ),
        pytest.param(
            {"sort_key": "Blob", "sort_key_type": "B", "measures": [{"name": "Top", "op": "max", "attribute": "Blob"}]},
            r"measures\[0\] takes the max of 'Blob' as N, but it is the sort key, of type 'B', which cannot be "
            r"ordered: every record would be quarantined",
            id="max-of-a-binary-key",
        ),
        pytest.param(
            {"measures": [{"name": "Top", "op": "min", "attribute": "OrderId"}]},
            r"measures\[0\] takes the min of 'OrderId' as N, but it is the partition key, of type 'S', not a number",
            id="number-min-of-a-string-key",
        ),
        pytest.param(
            {
                "partition_key_type": "N",
                "measures": [{"name": "Top", "op": "max", "attribute": "OrderId", "type": "S"}],
            },
            r"takes the max of 'OrderId' as S, but it is the partition key, of type 'N', not a string",
            id="string-max-of-a-number-key",
        ),
        pytest.param(
            {"measures": [{"name": "Mean", "op": "avg", "attribute": "CustomerId"}]},
            r"measures\[0\] averages 'CustomerId', but it is group_by, .* of type 'S', not a number",
            id="avg-of-the-string-group",
        ),
        pytest.param(
            {
                "measures": [
                    {"name": "T", "op": "sum", "attribute": "Amount"},
                    {"name": "Top", "op": "max", "attribute": "Amount", "type": "S"},
                ]
            },
            r"measures\[1\] takes the max of 'Amount' as S, but it is summed by measures\[0\], of type 'N'",
            id="string-max-of-a-summed-attribute",
        ),
        pytest.param(
            {
                "measures": [{"name": "Top", "op": "max", "attribute": "PlacedAt", "type": "S"}],
                "filter": {"attribute": "PlacedAt", "values": [7]},
            },
            r"filter.values holds 7 \(N\), but filter.attribute 'PlacedAt' is ordered as S by measures\[0\]",
            id="number-filter-on-a-string-max",
        ),
    ],
)
def test_a_min_or_max_on_a_type_it_cannot_order_fails_at_construction(deploy, change, message):
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("never", {**ORDERS, **change}))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"measures": [{"name": "Last", "op": "max", "attribute": "OrderId", "type": "S"}]}, id="s-key"),
        pytest.param(
            {"partition_key_type": "N", "measures": [{"name": "Top", "op": "max", "attribute": "OrderId"}]}, id="n-key"
        ),
        pytest.param(
            {
                "measures": [
                    {"name": "T", "op": "sum", "attribute": "Amount"},
                    {"name": "Mean", "op": "avg", "attribute": "Amount"},
                    {"name": "Low", "op": "min", "attribute": "Amount", "type": "N"},
                ]
            },
            id="numbers-read-alike",
        ),
        pytest.param(
            {"group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}]}
            | {"measures": [{"name": "First", "op": "min", "attribute": "OrderDate", "type": "S"}]},
            id="min-of-a-string-date-part",
        ),
    ],
)
def test_a_min_or_max_on_a_type_it_orders_is_accepted(deploy, change):
    resources = deploy(lambda: StreamAggregator("fits", {**ORDERS, **change}))
    assert one(resources, TABLE, "fits-extremes")


def test_the_measures_docstring_states_the_parsers_bounds():
    """The user reads the bounds in the argument's docstring (docs/configuration.md); the parser enforces them."""
    (doc,) = [" ".join(doc.split()) for name, _, doc in field_docs(StreamAggregatorArgs) if name == "measures"]
    assert f"at most {MAX_MEASURES} attributes stored" in doc and f"at most {MAX_EXTREMES} min or max" in doc
