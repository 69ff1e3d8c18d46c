import json
from pathlib import Path

import pytest

from aggregations import DAILY_REVENUE_AGGREGATION, INVOICE_AGGREGATION, ORDERS_AGGREGATION
from components import StreamAggregator
from components.errors import StreamAggregatorArgsError
from components.stream_aggregator import HANDLER_DIR, TYPE_TOKEN, handler_archive
from handler.config import load_config
from handler.spec import parse_spec
from handler.transaction import LEDGER_EXPIRY, LEDGER_KEY
from tests.component.conftest import autonamed, by_type, one

TABLE, QUEUE, FUNCTION = "aws:dynamodb/table:Table", "aws:sqs/queue:Queue", "aws:lambda/function:Function"
MAPPING, ALARM = "aws:lambda/eventSourceMapping:EventSourceMapping", "aws:cloudwatch/metricAlarm:MetricAlarm"
ORDERS = ORDERS_AGGREGATION


@pytest.fixture
def invoices(deploy):
    return deploy(lambda: StreamAggregator("inv", {**INVOICE_AGGREGATION, "alarm_actions": ["arn:aws:sns:x:1:t"]}))


def test_every_resource_is_named_after_the_component(invoices):
    assert [(r.typ, r.name) for r in invoices if "-" not in r.name] == [(TYPE_TOKEN, "inv")]
    assert sorted(r.name for r in invoices if "-" in r.name) == sorted(
        [
            "inv-source",
            "inv-aggregate",
            "inv-ledger",
            "inv-extremes",
            "inv-quarantine",
            "inv-failures",
            "inv-logs",
            "inv-role",
            "inv-policy",
            "inv-fn",
            "inv-mapping",
            "inv-iterator-age",
            "inv-errors",
            "inv-partial-failures",
            "inv-throttles",
            "inv-aggregate-throttles",
            "inv-ledger-throttles",
            "inv-extremes-throttles",
            "inv-ordering-violations",
            "inv-stale-stream",
            "inv-destination-failures",
            "inv-failures-depth",
            "inv-quarantine-depth",
            "inv-dashboard",
        ]
    )


def test_source_table(invoices):
    table = one(invoices, TABLE, "inv-source").inputs
    assert table["hashKey"] == "InvoiceNumber" and table["rangeKey"] == "TransactionId"
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["streamEnabled"] is True and table["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert "name" not in table, "autonamed by default"
    assert table["deletionProtectionEnabled"] is False


def test_aggregate_table_is_keyed_by_group(invoices):
    table = one(invoices, TABLE, "inv-aggregate").inputs
    assert table["hashKey"] == "InvoiceNumber" and "rangeKey" not in table
    assert table["attributes"] == [{"name": "InvoiceNumber", "type": "S"}]
    assert table["pointInTimeRecovery"] == {"enabled": True}


def test_function(invoices):
    function = one(invoices, FUNCTION).inputs
    assert function["runtime"] == "python3.13" and function["architectures"] == ["arm64"]
    assert function["handler"] == "handler.main.lambda_handler"
    assert function["memorySize"] == 256 and function["timeout"] == 60
    assert function["loggingConfig"]["logFormat"] == "JSON"
    assert function["tracingConfig"] == {"mode": "Active"}
    variables = function["environment"]["variables"]
    assert parse_spec(variables["AGGREGATION_SPEC"]) == parse_spec(INVOICE_AGGREGATION)
    assert variables["AGGREGATE_TABLE_NAME"] == autonamed("inv-aggregate")
    assert variables["QUARANTINE_QUEUE_URL"].endswith(f"/{autonamed('inv-quarantine')}")
    stream = one(invoices, MAPPING).inputs["eventSourceArn"]
    assert load_config(variables).source_table_arn == stream.partition("/stream/")[0] != ""
    assert one(invoices, "aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 30


def test_code_is_the_handler_package_alone():
    assets = handler_archive().assets
    assert set(assets) == {f"handler/{p.name}" for p in HANDLER_DIR.glob("*.py")}
    assert "handler/main.py" in assets and not any("test" in name or "pycache" in name for name in assets)
    assert all(Path(asset.path).is_absolute() for asset in assets.values()), "found relative to the component"


def test_mapping(invoices):
    mapping = one(invoices, MAPPING).inputs
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["startingPosition"] == "TRIM_HORIZON"
    assert mapping["maximumRetryAttempts"] == 10 and mapping["maximumRecordAgeInSeconds"] == 86400
    assert mapping["batchSize"] == 100 and mapping["parallelizationFactor"] == 1
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"].endswith(f":{autonamed('inv-failures')}")
    assert mapping["eventSourceArn"].endswith("/stream/2026-11-26T00:00:00.000")


def test_queues_are_encrypted_and_keep_14_days(invoices):
    for queue in by_type(invoices, QUEUE):
        assert queue.inputs["sqsManagedSseEnabled"] is True
        assert queue.inputs["messageRetentionSeconds"] == 14 * 24 * 3600


def test_alarms(invoices):
    alarms = {a.name: a.inputs for a in by_type(invoices, ALARM)}
    assert alarms["inv-iterator-age"]["metricName"] == "IteratorAge"
    assert alarms["inv-errors"]["metricName"] == "Errors" and alarms["inv-errors"]["threshold"] == 0
    assert alarms["inv-failures-depth"]["dimensions"] == {"QueueName": autonamed("inv-failures")}
    assert alarms["inv-quarantine-depth"]["dimensions"] == {"QueueName": autonamed("inv-quarantine")}
    for alarm in alarms.values():
        assert alarm["alarmActions"] == ["arn:aws:sns:x:1:t"]
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"


def test_iam_is_least_privilege(invoices):
    trust = json.loads(one(invoices, "aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert "managedPolicyArns" not in one(invoices, "aws:iam/role:Role").inputs
    assert not by_type(invoices, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    policy = json.loads(one(invoices, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    streams = f"arn:aws:dynamodb:us-east-1:123456789012:table/{autonamed('inv-source')}/stream/*"
    assert statements["ReadSourceStream"]["Resource"] == streams
    assert statements["ReadSourceStream"]["Action"] == [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
    ]
    assert statements["ListStreams"] == {
        "Sid": "ListStreams",
        "Effect": "Allow",
        "Action": "dynamodb:ListStreams",
        "Resource": "*",
    }
    writes = statements["WriteAggregatesInTransactions"]
    assert writes["Action"] == "dynamodb:UpdateItem"
    assert [arn.rsplit("/", 1)[1] for arn in writes["Resource"]] == [
        autonamed("inv-aggregate"),
        autonamed("inv-ledger"),
    ]
    assert writes["Condition"] == {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}}
    assert statements["ReadLedgerEntries"]["Action"] == "dynamodb:GetItem"
    assert statements["ReadLedgerEntries"]["Resource"].endswith(f":table/{autonamed('inv-ledger')}")
    assert statements["SendToQueues"]["Action"] == "sqs:SendMessage"
    assert [q.rsplit(":", 1)[1] for q in statements["SendToQueues"]["Resource"]] == [
        autonamed("inv-failures"),
        autonamed("inv-quarantine"),
    ]
    assert statements["WriteLogs"]["Resource"].endswith(f"log-group:{autonamed('inv-logs')}:*")
    assert set(statements) == {
        "ReadSourceStream",
        "ListStreams",
        "WriteAggregatesInTransactions",
        "ReadLedgerEntries",
        "WriteExtremesInTransactions",
        "SendToQueues",
        "WriteLogs",
        "WriteTraces",
    }
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)


def test_two_aggregators_do_not_collide(deploy):
    resources = deploy(lambda: (StreamAggregator("a", INVOICE_AGGREGATION), StreamAggregator("b", ORDERS)))
    names = [(r.typ, r.name) for r in resources]
    assert len(names) == len(set(names)) == 25 + 23, "the invoices' extremes table and its alarm, then the orders'"
    dashboards = [r.inputs["dashboardName"] for r in by_type(resources, "aws:cloudwatch/dashboard:Dashboard")]
    assert sorted(dashboards) == ["stream-aggregator-prod-a", "stream-aggregator-prod-b"]


def test_the_ledger_table_is_small_encrypted_recoverable_and_expires_by_ttl(invoices):
    ledger = one(invoices, TABLE, "inv-ledger").inputs
    assert ledger["billingMode"] == "PAY_PER_REQUEST" and ledger["hashKey"] == LEDGER_KEY
    assert ledger["attributes"] == [{"name": LEDGER_KEY, "type": "S"}]
    assert ledger["ttl"] == {"attributeName": LEDGER_EXPIRY, "enabled": True}
    assert ledger["pointInTimeRecovery"] == {"enabled": True}
    function = one(invoices, "aws:lambda/function:Function").inputs
    assert function["environment"]["variables"]["LEDGER_TABLE_NAME"] == autonamed("inv-ledger")


def test_a_single_source_aggregation_has_no_ledger_and_writes_outside_transactions(deploy):
    args = {"partition_key": "AccountId", "measures": [{"name": "Balance", "op": "sum", "attribute": "Amount"}]}
    resources = deploy(lambda: StreamAggregator("acct", args))
    assert [t.name for t in by_type(resources, TABLE)] == ["acct-source", "acct-aggregate"]
    policy = json.loads(one(resources, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    writes = next(s for s in policy["Statement"] if s["Sid"] == "WriteAggregates")
    assert writes["Action"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"] and "Condition" not in writes
    assert "LEDGER_TABLE_NAME" not in one(resources, "aws:lambda/function:Function").inputs["environment"]["variables"]


@pytest.mark.parametrize("factor", [1, 2, 10])
def test_any_parallelization_factor_is_allowed_for_any_aggregation(deploy, factor):
    """Exactness rests on per-item order only, which Lambda keeps at every factor."""
    resources = deploy(lambda: StreamAggregator("p", {**ORDERS, "parallelization_factor": factor}))
    assert one(resources, MAPPING).inputs["parallelizationFactor"] == factor


def test_orders_example_groups_by_customer(deploy):
    resources = deploy(lambda: StreamAggregator("orders", ORDERS))
    assert one(resources, TABLE, "orders-aggregate").inputs["hashKey"] == "CustomerId"
    assert one(resources, TABLE, "orders-source").inputs["hashKey"] == "OrderId"


def test_existing_source_creates_no_table(deploy):
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Legacy/stream/2020-01-01T00:00:00.000"
    args = {
        **INVOICE_AGGREGATION,
        "existing_source": {"table_name": "Legacy", "stream_arn": arn},
        "starting_position": "LATEST",
    }
    resources = deploy(lambda: StreamAggregator("legacy", args))
    assert [t.name for t in by_type(resources, TABLE)] == ["legacy-aggregate", "legacy-ledger", "legacy-extremes"]
    assert one(resources, MAPPING).inputs["eventSourceArn"] == arn
    variables = one(resources, FUNCTION).inputs["environment"]["variables"]
    assert load_config(variables).source_table_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/Legacy", (
        "the handler quarantines records of any stream but the one its mapping reads"
    )
    policy = json.loads(one(resources, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == "arn:aws:dynamodb:us-east-1:123456789012:table/Legacy/stream/*"


def test_kms_key_encrypts_tables_and_allows_decrypt(deploy):
    key = "arn:aws:kms:us-east-1:123456789012:key/abc"
    resources = deploy(lambda: StreamAggregator("k", {**INVOICE_AGGREGATION, "kms_key_arn": key}))
    for table in by_type(resources, TABLE):
        assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key}
    policy = json.loads(one(resources, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert {"Sid": "DecryptStream", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key} in policy["Statement"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"measures": [{"name": "X", "op": "median", "attribute": "A"}]}, r"measures\[0\]\.op", id="unknown-op"
        ),
        pytest.param({"measures": [{"name": "X", "op": "sum"}]}, r"measures\[0\]\.attribute", id="sum-no-attr"),
        pytest.param({"measures": [{"name": "X", "op": "latest"}]}, r"measures\[0\]\.attribute", id="latest-no-attr"),
        pytest.param(
            {"measures": [{"name": "InvoiceNumber", "op": "count"}]}, "collides with group_by", id="name-group"
        ),
        pytest.param({"measures": [{"name": "_wmX", "op": "count"}]}, "reserved", id="name-internal"),
        pytest.param({"batch_size": 0}, "batch_size must be a whole number from 1 to 10000", id="batch-size"),
        pytest.param({"batch_size": 10001}, "batch_size", id="batch-size-high"),
        pytest.param({"batching_window_seconds": 301}, "batching_window_seconds", id="window"),
        pytest.param(
            {"parallelization_factor": 11}, "parallelization_factor must be a whole number from 1 to 10", id="parallel"
        ),
        pytest.param({"max_record_age_seconds": 10}, "max_record_age_seconds", id="record-age"),
        pytest.param({"log_retention_days": 10}, "log_retention_days", id="retention"),
        pytest.param({"starting_position": "AT_TIMESTAMP"}, "starting_position", id="position"),
        pytest.param({"partition_key_type": "X"}, "partition_key_type", id="key-type"),
        pytest.param({"timeout": 901}, "timeout", id="timeout"),
        pytest.param({"memory_size": 64}, "memory_size", id="memory"),
        pytest.param({"existing_source": {"table_name": "Legacy"}}, "existing_source", id="existing-shape"),
        pytest.param(
            {"existing_source": {"table_name": "Legacy", "stream_arn": "arn:aws:sqs:x"}},
            "stream_arn",
            id="existing-arn",
        ),
    ],
)
def test_invalid_arguments_fail_at_construction(deploy, change, message):
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("bad", {**INVOICE_AGGREGATION, **change}))


def aggregate_key(resources, name):
    return one(resources, TABLE, f"{name}-aggregate").inputs["attributes"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"group_by": "TransactionId", "sort_key_type": "N"}, "N", id="sort-key"),
        pytest.param({"group_by": "TransactionId", "sort_key_type": "N", "group_by_type": "N"}, "N", id="sort-agrees"),
        pytest.param({"partition_key_type": "N"}, "N", id="partition-key"),
        pytest.param({"partition_key_type": "B", "group_by_type": "B"}, "B", id="partition-agrees"),
        pytest.param({"group_by": "CustomerId", "group_by_type": "N"}, "N", id="other-attribute"),
        pytest.param({"group_by": "CustomerId"}, "S", id="other-attribute-default"),
    ],
)
def test_the_aggregate_key_takes_the_type_of_the_source_key_it_groups_by(deploy, change, expected):
    """Written values are the source item's typed values, so a different key type fails every write."""
    resources = deploy(lambda: StreamAggregator("g", {**INVOICE_AGGREGATION, **change}))
    group_by = change.get("group_by", "InvoiceNumber")
    assert aggregate_key(resources, "g") == [{"name": group_by, "type": expected}]


def test_grouping_by_the_sort_key_keys_both_tables_with_its_type(deploy):
    args = {**INVOICE_AGGREGATION, "group_by": "TransactionId", "sort_key_type": "N"}
    resources = deploy(lambda: StreamAggregator("g", args))
    assert aggregate_key(resources, "g") == [{"name": "TransactionId", "type": "N"}]
    source = one(resources, TABLE, "g-source").inputs
    assert {"name": "TransactionId", "type": "N"} in source["attributes"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"group_by": "TransactionId", "group_by_type": "N"},
            "group_by_type 'N' differs from sort_key_type 'S'",
            id="sort-key-default",
        ),
        pytest.param(
            {"group_by": "TransactionId", "sort_key_type": "N", "group_by_type": "S"},
            "group_by_type 'S' differs from sort_key_type 'N'",
            id="sort-key",
        ),
        pytest.param(
            {"partition_key_type": "N", "group_by_type": "S"},
            "group_by_type 'S' differs from partition_key_type 'N'",
            id="partition-key",
        ),
        pytest.param(
            {"group_by_type": "B"}, "group_by_type 'B' differs from partition_key_type 'S'", id="partition-key-default"
        ),
    ],
)
def test_a_group_by_type_that_contradicts_the_source_key_fails(deploy, change, message):
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("bad", {**INVOICE_AGGREGATION, **change}))


def test_registered_outputs_are_the_declared_ones(deploy, monkeypatch):
    """The schema is built from the class's annotations; register_outputs must use the same names."""
    import pulumi

    registered = {}
    monkeypatch.setattr(pulumi.ComponentResource, "register_outputs", lambda self, outputs: registered.update(outputs))
    deploy(lambda: StreamAggregator("o", INVOICE_AGGREGATION))
    assert list(registered) == list(StreamAggregator.__annotations__)
    assert registered["ledger_table"] is not None and registered["source_table"] is not None


def test_the_daily_revenue_example_keys_by_customer_and_day_and_indexes_the_day(deploy):
    resources = deploy(
        lambda: StreamAggregator("daily", {**DAILY_REVENUE_AGGREGATION, "index_by_bucket": True, "sort_key": None})
    )
    table = one(resources, TABLE, "daily-aggregate").inputs
    assert table["hashKey"] == "CustomerId#OrderDate_day"
    assert table["attributes"] == [
        {"name": "CustomerId#OrderDate_day", "type": "S"},
        {"name": "OrderDate_day", "type": "S"},
    ]
    (index,) = table["globalSecondaryIndexes"]
    assert index["name"] == "OrderDate_day-by-bucket" and index["projectionType"] == "ALL"
    assert index["keySchemas"] == [
        {"attributeName": "OrderDate_day", "keyType": "HASH"},
        {"attributeName": "CustomerId#OrderDate_day", "keyType": "RANGE"},
    ]
    assert one(resources, TABLE, "daily-ledger"), "a composite group is never single-source"
    function = one(resources, FUNCTION, "daily-fn").inputs
    spec = parse_spec(function["environment"]["variables"]["AGGREGATION_SPEC"])
    assert spec == parse_spec(DAILY_REVENUE_AGGREGATION)
    archive = handler_archive(spec.timezone)
    assert archive.assets["handler/zoneinfo/Europe/Berlin"].path.endswith("Europe/Berlin")
    assert set(handler_archive().assets) == {f"handler/{p.name}" for p in HANDLER_DIR.glob("*.py")}


def test_without_index_by_bucket_the_aggregate_table_has_no_index(deploy):
    resources = deploy(lambda: StreamAggregator("daily", DAILY_REVENUE_AGGREGATION))
    table = one(resources, TABLE, "daily-aggregate").inputs
    assert "globalSecondaryIndexes" not in table and table["attributes"] == [
        {"name": "CustomerId#OrderDate_day", "type": "S"}
    ]


def test_other_languages_give_the_parts_as_group_by_parts(deploy):
    parts = [{"attribute": "CustomerId"}, {"attribute": "OrderDate", "bucket": "day"}]
    args = {**DAILY_REVENUE_AGGREGATION, "group_by": None, "group_by_parts": parts}
    resources = deploy(lambda: StreamAggregator("daily", args))
    function = one(resources, FUNCTION, "daily-fn").inputs
    assert parse_spec(function["environment"]["variables"]["AGGREGATION_SPEC"]) == parse_spec(DAILY_REVENUE_AGGREGATION)
