"""The component's CloudWatch dashboard body, as a pure function of the names it shows.

What an on-call engineer opens first: the alarms' states across the top, then the stream's lag and
the function's health, what the handler did with the records (its own metrics, the same names the
handler emits), what it could not do, the queues, the tables' throttling, and the log lines that
say why a batch failed. Every metric widget names its region: CloudWatch's body format asks for
it, and the component's resources all live in one region, read from the function's ARN.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ._lambda_code import DIMENSION, METRIC_NAMES, NAMESPACE
from .alarms import PERIOD_SECONDS
from .errors import StreamAggregatorError

WIDTH, HEIGHT = 12, 6
"""Two graphs side by side on CloudWatch's 24-column grid."""
MAX_NAME = 255
_NOT_ALLOWED_IN_NAMES = re.compile(r"[^A-Za-z0-9_-]")
_DIGEST = 8


@dataclass(frozen=True)
class DashboardTargets:
    """The resolved names the dashboard's metrics are keyed by."""

    aggregator: str
    """The handler's metrics dimension value (the component's name)."""
    region: str
    function_name: str
    log_group: str
    failure_queue: str
    quarantine_queue: str
    aggregate_table: str
    ledger_table: str | None
    timeout_seconds: int
    iterator_age_threshold_ms: int
    alarm_arns: tuple[str, ...]
    extremes_table: str | None = None
    """The min/max entries' table, when the aggregation has one."""


def dashboard_name(project: str, stack: str, component: str) -> str:
    """Unique per account: dashboards are not regional, and one account often holds several stacks.
    CloudWatch allows letters, digits, '-' and '_' only, up to 255 characters. A name that had to be
    changed to fit (stack 'dev.eu' beside 'dev-eu', or cut short) ends with a hash of the whole one:
    PutDashboard replaces a dashboard of the same name, so two stacks would silently share one, and
    removing either stack would delete it."""
    whole = f"{project}-{stack}-{component}"
    name = _NOT_ALLOWED_IN_NAMES.sub("-", whole)
    if name == whole and len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(whole.encode()).hexdigest()[:_DIGEST]
    return f"{name[: MAX_NAME - _DIGEST - 1]}-{digest}"


def region_of(arn: str) -> str:
    """The region field of an ARN (arn:partition:service:region:account:resource)."""
    fields = arn.split(":")
    if len(fields) < 6 or fields[0] != "arn" or not fields[3]:
        raise StreamAggregatorError(f"not a regional ARN: {arn!r}")
    return fields[3]


def dashboard_body(targets: DashboardTargets) -> dict[str, Any]:
    """The body's JSON document: the alarm states, then graphs two by two, then the failure log."""
    graphs = [
        _lag(targets),
        _invocations(targets),
        _duration(targets),
        _handler_metrics(targets, "Records handled", ("records", "writes", "duplicates_skipped")),
        _handler_metrics(
            targets,
            "Records not applied",
            ("failed_records", "quarantined", "ordering_violations", "stale_stream_records"),
        ),
        _handler_metrics(targets, "Contention on hot keys", ("transaction_conflicts", "conditional_retries")),
        _queues(targets),
        _tables(targets),
    ]
    widgets = [_alarm_states(targets)]
    for index, graph in enumerate(graphs):
        widgets.append(_placed(graph, x=(index % 2) * WIDTH, y=3 + (index // 2) * HEIGHT, width=WIDTH))
    widgets.append(_placed(_failure_log(targets), x=0, y=3 + (len(graphs) + 1) // 2 * HEIGHT, width=2 * WIDTH))
    return {"widgets": widgets}


def _placed(widget: dict[str, Any], x: int, y: int, width: int) -> dict[str, Any]:
    return {**widget, "x": x, "y": y, "width": width, "height": HEIGHT}


def _alarm_states(targets: DashboardTargets) -> dict[str, Any]:
    return {
        "type": "alarm",
        "x": 0,
        "y": 0,
        "width": 2 * WIDTH,
        "height": 3,
        "properties": {
            "title": "Alarms (what each means: docs/runbook.md, Alarms)",
            "alarms": sorted(targets.alarm_arns),
            "sortBy": "stateUpdatedTimestamp",
        },
    }


def _graph(
    targets: DashboardTargets,
    title: str,
    metrics: list[list[Any]],
    stat: str = "Sum",
    lines: dict[str, float] | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": title,
        "region": targets.region,
        "view": "timeSeries",
        "stacked": False,
        "period": PERIOD_SECONDS,
        "stat": stat,
        "metrics": metrics,
    }
    if lines:
        properties["annotations"] = {"horizontal": [{"label": label, "value": v} for label, v in lines.items()]}
    return {"type": "metric", "properties": properties}


def _function_metric(targets: DashboardTargets, metric: str, **options: Any) -> list[Any]:
    return ["AWS/Lambda", metric, "FunctionName", targets.function_name, *([options] if options else [])]


def _lag(targets: DashboardTargets) -> dict[str, Any]:
    return _graph(
        targets,
        "Stream lag: IteratorAge (ms)",
        [_function_metric(targets, "IteratorAge")],
        stat="Maximum",
        lines={"iterator-age alarm": targets.iterator_age_threshold_ms},
    )


def _invocations(targets: DashboardTargets) -> dict[str, Any]:
    names = ("Invocations", "Errors", "Throttles", "DestinationDeliveryFailures")
    return _graph(targets, "Invocations, errors, throttles", [_function_metric(targets, name) for name in names])


def _duration(targets: DashboardTargets) -> dict[str, Any]:
    metrics = [_function_metric(targets, "Duration", stat=stat) for stat in ("Average", "p99", "Maximum")]
    return _graph(targets, "Duration (ms)", metrics, stat="Average", lines={"timeout": targets.timeout_seconds * 1000})


def _handler_metrics(targets: DashboardTargets, title: str, counters: tuple[str, ...]) -> dict[str, Any]:
    metrics = [[NAMESPACE, METRIC_NAMES[counter], DIMENSION, targets.aggregator] for counter in counters]
    return _graph(targets, title, metrics)


def _queues(targets: DashboardTargets) -> dict[str, Any]:
    metrics: list[list[Any]] = []
    for role, queue in (("failure", targets.failure_queue), ("quarantine", targets.quarantine_queue)):
        metrics.append(
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, {"label": f"{role} depth"}]
        )
        metrics.append(
            [
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "QueueName",
                queue,
                {"label": f"{role} oldest (s)", "yAxis": "right"},
            ]
        )
    return _graph(targets, "Queues: messages waiting, oldest age", metrics, stat="Maximum")


def _tables(targets: DashboardTargets) -> dict[str, Any]:
    tables = [("aggregate", targets.aggregate_table)]
    if targets.ledger_table:
        tables.append(("ledger", targets.ledger_table))
    if targets.extremes_table:
        tables.append(("extremes", targets.extremes_table))
    metrics: list[list[Any]] = []
    for role, table in tables:
        metrics.append(["AWS/DynamoDB", "WriteThrottleEvents", "TableName", table, {"label": f"{role} throttled"}])
    for role, table in tables:
        metrics.append(
            [
                "AWS/DynamoDB",
                "ConsumedWriteCapacityUnits",
                "TableName",
                table,
                {"label": f"{role} write units", "yAxis": "right"},
            ]
        )
    return _graph(targets, "Table writes: throttled, write units", metrics)


def _failure_log(targets: DashboardTargets) -> dict[str, Any]:
    """The summary lines of batches that reported failures and every ERROR line (the handler's, and
    the runtime's for an invocation that failed whole), newest first."""
    failed = METRIC_NAMES["failed_records"]
    query = (
        f"SOURCE '{targets.log_group}' "
        f"| fields @timestamp, level, message, {failed}, firstError, retryFrom, error, errorType, errorMessage "
        f'| filter level = "ERROR" or {failed} > 0 '
        "| sort @timestamp desc "
        "| limit 50"
    )
    return {
        "type": "log",
        "properties": {"title": "Why batches failed", "region": targets.region, "view": "table", "query": query},
    }
