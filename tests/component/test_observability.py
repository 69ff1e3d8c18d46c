"""Seeing it run: X-Ray tracing and its IAM, every alarm as deployed, and the dashboard, under mocks.

The handler's metric names, namespace and dimension are read from what handler/telemetry.py emits,
never restated: an alarm on a metric nobody emits would stay quiet forever."""

import json

import pulumi
import pytest

from aggregations import INVOICE_AGGREGATION
from components import StreamAggregator
from components.alarms import MAX_DESCRIPTION
from components.errors import StreamAggregatorArgsError
from handler.telemetry import METRIC_NAMES, BatchCounters, summary_line
from tests.component.conftest import ACCOUNT, autonamed, by_type, one

ALARM, DASHBOARD = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/dashboard:Dashboard"
FUNCTION, POLICY = "aws:lambda/function:Function", "aws:iam/rolePolicy:RolePolicy"
TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"
SINGLE_SOURCE = {"partition_key": "AccountId", "measures": [{"name": "Balance", "op": "sum", "attribute": "Amount"}]}


def emitted() -> dict:
    """The EMF directive of a real summary line: what CloudWatch will extract as metrics."""
    document = json.loads(summary_line(BatchCounters(), "any", {}))
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    return {
        "namespace": directive["Namespace"],
        "dimensions": directive["Dimensions"],
        "metrics": {metric["Name"] for metric in directive["Metrics"]},
    }


@pytest.fixture
def invoices(deploy):
    return deploy(lambda: StreamAggregator("inv", {**INVOICE_AGGREGATION, "alarm_actions": [TOPIC]}))


def alarms(resources) -> dict[str, dict]:
    return {a.name.removeprefix("inv-").removeprefix("acct-"): a.inputs for a in by_type(resources, ALARM)}


def watched(alarm: dict) -> dict:
    """What an alarm reads: its own metric, or the metric under its FILL(m, 0) expression."""
    if "metricQueries" not in alarm:
        return {key: alarm[key] for key in ("namespace", "metricName", "statistic", "dimensions", "period")}
    metric, filled = alarm["metricQueries"]
    assert filled == {"id": "filled", "expression": "FILL(m, 0)", "label": filled["label"], "returnData": True}
    assert metric["id"] == "m" and metric["returnData"] is False
    assert not {"namespace", "metricName", "statistic", "dimensions", "period"} & set(alarm), "one or the other"
    inner = metric["metric"]
    return {**inner, "statistic": inner["stat"]}


def statements(resources) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(one(resources, POLICY).inputs["policy"])["Statement"]}


# --- X-Ray ---------------------------------------------------------------------------------------


def test_tracing_is_active_by_default_with_only_the_two_trace_writes_on_star(invoices):
    assert one(invoices, FUNCTION).inputs["tracingConfig"] == {"mode": "Active"}
    assert statements(invoices)["WriteTraces"] == {
        "Sid": "WriteTraces",
        "Effect": "Allow",
        "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        "Resource": "*",
    }


def test_tracing_off_leaves_no_trace_config_and_no_xray_grant(deploy):
    resources = deploy(lambda: StreamAggregator("inv", {**INVOICE_AGGREGATION, "tracing": False}))
    assert "tracingConfig" not in one(resources, FUNCTION).inputs
    grants = statements(resources)
    assert "WriteTraces" not in grants
    assert not any("xray" in json.dumps(statement) for statement in grants.values())


# --- alarms --------------------------------------------------------------------------------------

SUSTAINED, AT_ONCE = (3, 5), (1, 1)
EXPECTED = {
    # role: (namespace, metric, statistic, dimension, datapoints of periods)
    "iterator-age": ("AWS/Lambda", "IteratorAge", "Maximum", "FunctionName", SUSTAINED),
    "errors": ("AWS/Lambda", "Errors", "Sum", "FunctionName", SUSTAINED),
    "throttles": ("AWS/Lambda", "Throttles", "Sum", "FunctionName", SUSTAINED),
    "partial-failures": ("StreamAggregator", METRIC_NAMES["failed_records"], "Sum", "Aggregator", SUSTAINED),
    "aggregate-throttles": ("AWS/DynamoDB", "WriteThrottleEvents", "Sum", "TableName", SUSTAINED),
    "ledger-throttles": ("AWS/DynamoDB", "WriteThrottleEvents", "Sum", "TableName", SUSTAINED),
    "extremes-throttles": ("AWS/DynamoDB", "WriteThrottleEvents", "Sum", "TableName", SUSTAINED),
    "ordering-violations": ("StreamAggregator", METRIC_NAMES["ordering_violations"], "Sum", "Aggregator", AT_ONCE),
    "stale-stream": ("StreamAggregator", METRIC_NAMES["stale_stream_records"], "Sum", "Aggregator", AT_ONCE),
    "destination-failures": ("AWS/Lambda", "DestinationDeliveryFailures", "Sum", "FunctionName", AT_ONCE),
    "failures-depth": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "QueueName", AT_ONCE),
    "quarantine-depth": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "QueueName", AT_ONCE),
}


def test_every_alarm_watches_its_metric_over_its_window(invoices):
    deployed = alarms(invoices)
    assert set(deployed) == set(EXPECTED)
    for role, (namespace, metric, statistic, dimension, (datapoints, periods)) in EXPECTED.items():
        alarm, reads = deployed[role], watched(deployed[role])
        assert (reads["namespace"], reads["metricName"], reads["statistic"]) == (namespace, metric, statistic), role
        assert list(reads["dimensions"]) == [dimension], role
        assert (alarm["datapointsToAlarm"], alarm["evaluationPeriods"], reads["period"]) == (datapoints, periods, 60)
        assert alarm["comparisonOperator"] == "GreaterThanThreshold" and alarm["treatMissingData"] == "notBreaching"
        assert alarm["alarmActions"] == alarm["okActions"] == [TOPIC], role
        assert 0 < len(alarm["alarmDescription"]) <= MAX_DESCRIPTION and "Runbook" in alarm["alarmDescription"], role


def test_dynamodb_alarms_fill_the_minutes_without_throttles(invoices):
    """DynamoDB's metrics have no datapoint while nothing is throttled, and alarms on them ignore
    missing data whatever they are told: read raw, an alarm would stay in ALARM after a burst."""
    deployed = alarms(invoices)
    filled = {role for role, alarm in deployed.items() if "metricQueries" in alarm}
    assert filled == {"aggregate-throttles", "ledger-throttles", "extremes-throttles"}
    assert all(watched(deployed[role])["namespace"] == "AWS/DynamoDB" for role in filled)


def test_each_alarm_names_this_components_resources(invoices):
    deployed = {role: {**alarm, **watched(alarm)} for role, alarm in alarms(invoices).items()}
    function = one(invoices, FUNCTION).inputs
    assert deployed["errors"]["dimensions"] == {"FunctionName": autonamed("inv-fn")}
    assert deployed["aggregate-throttles"]["dimensions"] == {"TableName": autonamed("inv-aggregate")}
    assert deployed["ledger-throttles"]["dimensions"] == {"TableName": autonamed("inv-ledger")}
    assert deployed["extremes-throttles"]["dimensions"] == {"TableName": autonamed("inv-extremes")}
    assert deployed["failures-depth"]["dimensions"] == {"QueueName": autonamed("inv-failures")}
    assert deployed["quarantine-depth"]["dimensions"] == {"QueueName": autonamed("inv-quarantine")}
    # The handler's dimension value is what the function is told to emit, read from its environment.
    for role in ("partial-failures", "ordering-violations", "stale-stream"):
        assert deployed[role]["dimensions"] == {"Aggregator": function["environment"]["variables"]["AGGREGATOR_NAME"]}


def test_alarms_on_the_handlers_metrics_match_what_it_emits(invoices):
    """Namespace, dimension set and metric name as CloudWatch extracts them from the summary line."""
    emf = emitted()
    reads = {role: watched(alarm) for role, alarm in alarms(invoices).items()}
    own = {role: alarm for role, alarm in reads.items() if alarm["namespace"] == emf["namespace"]}
    assert set(own) == {"partial-failures", "ordering-violations", "stale-stream"}
    for role, alarm in own.items():
        assert alarm["metricName"] in emf["metrics"], role
        assert [list(alarm["dimensions"])] == emf["dimensions"], role


def test_thresholds(invoices):
    deployed = alarms(invoices)
    assert deployed["iterator-age"]["threshold"] == (300 + 60 + 0) * 1000, "5 minutes beyond one 60 s retry"
    assert all(alarm["threshold"] == 0 for role, alarm in deployed.items() if role != "iterator-age")


def test_the_lag_threshold_grows_with_what_one_retry_can_take(deploy):
    args = {**INVOICE_AGGREGATION, "timeout": 900, "batching_window_seconds": 30}
    deployed = alarms(deploy(lambda: StreamAggregator("inv", args)))
    assert deployed["iterator-age"]["threshold"] == (300 + 900 + 30) * 1000
    assert "over 20 min 30 s behind" in deployed["iterator-age"]["alarmDescription"]


def test_a_single_source_aggregation_has_no_ledger_alarm(deploy):
    deployed = alarms(deploy(lambda: StreamAggregator("acct", SINGLE_SOURCE)))
    assert set(deployed) == set(EXPECTED) - {"ledger-throttles", "extremes-throttles"}
    assert deployed["partial-failures"]["alarmActions"] == [], "no actions given: the alarms still show state"


@pytest.mark.parametrize(
    ("setting", "value", "why"),
    [
        ("timeout", 60, "threshold is computed from it"),
        ("batching_window_seconds", 0, "threshold is computed from it"),
        ("tracing", True, "whether the function is traced"),
        ("dashboard", False, "whether the dashboard exists"),
    ],
)
def test_settings_read_at_construction_are_refused_as_outputs_by_name(deploy, setting, value, why):
    """They decide what is built; an Output would be read as always true, or fail deep in Pulumi."""

    def build():
        StreamAggregator("out", {**INVOICE_AGGREGATION, setting: pulumi.Output.from_input(value)})

    with pytest.raises(StreamAggregatorArgsError, match=f"{setting} must be a plain value, not an Output: .*{why}"):
        deploy(build)


@pytest.mark.parametrize("setting", ["tracing", "dashboard"])
def test_switches_must_be_booleans(deploy, setting):
    with pytest.raises(StreamAggregatorArgsError, match=f"{setting} must be true or false, got 'false'"):
        deploy(lambda: StreamAggregator("bad", {**INVOICE_AGGREGATION, setting: "false"}))


# --- dashboard -----------------------------------------------------------------------------------


def body(resources) -> dict:
    return json.loads(one(resources, DASHBOARD).inputs["dashboardBody"])


def metric_rows(dashboard: dict) -> list[list]:
    return [row for w in dashboard["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]


def test_the_dashboard_is_named_per_project_stack_and_component(invoices):
    assert one(invoices, DASHBOARD).inputs["dashboardName"] == "stream-aggregator-prod-inv"


def test_the_dashboard_shows_every_alarm_of_the_component(invoices):
    (status,) = [w for w in body(invoices)["widgets"] if w["type"] == "alarm"]
    expected = {f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{autonamed(a.name)}" for a in by_type(invoices, ALARM)}
    assert set(status["properties"]["alarms"]) == expected and len(expected) == len(EXPECTED)


def test_the_dashboards_metrics_name_this_components_resources(invoices):
    rows = metric_rows(body(invoices))
    named = {(row[0], row[1], row[2], row[3]) for row in rows}
    for metric in ("IteratorAge", "Invocations", "Errors", "Throttles", "Duration"):
        assert ("AWS/Lambda", metric, "FunctionName", autonamed("inv-fn")) in named, metric
    for table in (autonamed("inv-aggregate"), autonamed("inv-ledger"), autonamed("inv-extremes")):
        assert ("AWS/DynamoDB", "WriteThrottleEvents", "TableName", table) in named
    for queue in (autonamed("inv-failures"), autonamed("inv-quarantine")):
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue) in named
    aggregator = one(invoices, FUNCTION).inputs["environment"]["variables"]["AGGREGATOR_NAME"]
    emf = emitted()
    own = [row for row in rows if row[0] == emf["namespace"]]
    assert {row[1] for row in own} == {
        METRIC_NAMES[c]
        for c in (
            "records",
            "writes",
            "duplicates_skipped",
            "quarantined",
            "failed_records",
            "transaction_conflicts",
            "ordering_violations",
            "stale_stream_records",
            "conditional_retries",
        )
    }
    assert all(row[1] in emf["metrics"] and [row[2]] == emf["dimensions"][0] and row[3] == aggregator for row in own)


def test_the_dashboard_reads_the_functions_region_and_log_group(invoices):
    widgets = body(invoices)["widgets"]
    assert {w["properties"]["region"] for w in widgets if w["type"] in ("metric", "log")} == {"us-east-1"}
    (log,) = [w for w in widgets if w["type"] == "log"]
    assert log["properties"]["query"].startswith(f"SOURCE '{autonamed('inv-logs')}' |")


def test_dashboard_off_creates_none_and_keeps_the_alarms(deploy):
    created = []
    resources = deploy(lambda: created.append(StreamAggregator("inv", {**INVOICE_AGGREGATION, "dashboard": False})))
    assert not by_type(resources, DASHBOARD) and created[0].dashboard is None
    assert set(alarms(resources)) == set(EXPECTED)


def test_a_single_source_dashboard_has_no_ledger(deploy):
    rows = metric_rows(body(deploy(lambda: StreamAggregator("acct", SINGLE_SOURCE))))
    tables = {row[3] for row in rows if row[0] == "AWS/DynamoDB"}
    assert tables == {autonamed("acct-aggregate")}
