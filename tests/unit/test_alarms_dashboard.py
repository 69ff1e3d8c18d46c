"""The alarm table and the dashboard body, without Pulumi.

The alarm windows are checked the way CloudWatch evaluates them (M breaching datapoints out of the
last N periods) against the metric series a single retry produces and the one a persisting fault
produces: the first must never fire an alarm, the second must fire every alarm."""

import re

import pytest

from components.alarms import AT_ONCE, SUSTAINED, AlarmSpec, Watched, alarm_specs, iterator_age_threshold_ms
from components.dashboard import WIDTH, DashboardTargets, dashboard_body, dashboard_name, region_of
from components.errors import StreamAggregatorError
from handler.telemetry import DIMENSION, METRIC_NAMES, NAMESPACE

RETRYABLE = {"iterator-age", "errors", "partial-failures", "throttles", "aggregate-throttles", "ledger-throttles"}
"""Metrics one retried batch can move: it fails (or is throttled, or lags) once, then succeeds."""


def fires(spec: AlarmSpec, series: list[float]) -> bool:
    """CloudWatch's M out of N: some run of N consecutive one-minute periods holds M breaching ones."""
    breaching = [value > spec.threshold for value in series]
    n = spec.evaluation_periods
    return any(sum(breaching[i : i + n]) >= spec.datapoints for i in range(max(1, len(breaching) - n + 1)))


def one_retry(spec: AlarmSpec) -> list[float]:
    """The worst a single retry does: the failing invocation and its retry straddle a minute
    boundary, so two adjacent minutes breach, then all is quiet."""
    bad = spec.threshold + 1
    return [0, 0, bad, bad, 0, 0, 0, 0, 0, 0]


def persisting(spec: AlarmSpec) -> list[float]:
    return [spec.threshold + 1] * 10


@pytest.mark.parametrize("ledger", [True, False])
def test_one_retry_pages_nobody_and_a_persisting_fault_pages(ledger):
    specs = alarm_specs(60, 0, ledger)
    assert {s.role for s in specs} >= RETRYABLE - ({"ledger-throttles"} if not ledger else set())
    for spec in specs:
        assert fires(spec, persisting(spec)), spec.role
        if spec.role in RETRYABLE:
            assert (spec.datapoints, spec.evaluation_periods) == SUSTAINED, spec.role
            assert not fires(spec, one_retry(spec)), spec.role


def test_what_no_retry_causes_fires_on_its_first_datapoint():
    """A batch the mapping gave up on, a record out of order or from an old stream, bad data: each is
    records not applied, so one datapoint is enough."""
    for spec in alarm_specs(60, 0, ledger=True):
        if spec.role not in RETRYABLE:
            assert (spec.datapoints, spec.evaluation_periods) == AT_ONCE, spec.role
            assert fires(spec, [0, 0, 0, spec.threshold + 1, 0]), spec.role


def test_a_single_retry_of_the_slowest_batch_stays_under_the_lag_threshold():
    """A retried batch's records wait one timeout and one batching window at most before the retry."""
    for timeout, window in [(1, 0), (60, 0), (900, 300)]:
        assert iterator_age_threshold_ms(timeout, window) > (timeout + window) * 1000
        assert iterator_age_threshold_ms(timeout, window) - (timeout + window) * 1000 == 300_000


def test_whole_floats_from_other_languages_give_whole_thresholds():
    (lag,) = [s for s in alarm_specs(60.0, 0.0, ledger=False) if s.role == "iterator-age"]
    assert lag.threshold == 360_000 and isinstance(lag.threshold, int) and "over 6 min behind" in lag.description


def test_the_handlers_metrics_are_read_from_its_telemetry():
    own = [s for s in alarm_specs(60, 0, ledger=True) if s.namespace == NAMESPACE]
    assert {s.metric for s in own} == {
        METRIC_NAMES["failed_records"],
        METRIC_NAMES["ordering_violations"],
        METRIC_NAMES["stale_stream_records"],
    }
    assert {s.watched.dimension for s in own} == {DIMENSION}


def test_dimensions_fill_the_watched_resources_name():
    names = {watched: f"{watched.name.lower()}-name" for watched in Watched}
    dimensions = {s.role: s.dimensions(names) for s in alarm_specs(60, 0, ledger=True)}
    assert dimensions["ledger-throttles"] == {"TableName": "ledger_table-name"}
    assert dimensions["quarantine-depth"] == {"QueueName": "quarantine_queue-name"}
    assert dimensions["partial-failures"] == {DIMENSION: "aggregator-name"}


# --- dashboard -----------------------------------------------------------------------------------


def targets(ledger: str | None = "ledger-t") -> DashboardTargets:
    return DashboardTargets(
        aggregator="orders",
        region="eu-west-1",
        function_name="fn",
        log_group="logs",
        failure_queue="failures-q",
        quarantine_queue="quarantine-q",
        aggregate_table="aggregate-t",
        ledger_table=ledger,
        timeout_seconds=45,
        iterator_age_threshold_ms=iterator_age_threshold_ms(45, 0),
        alarm_arns=("arn:aws:cloudwatch:eu-west-1:1:alarm:b", "arn:aws:cloudwatch:eu-west-1:1:alarm:a"),
    )


def widget(body: dict, title_start: str) -> dict:
    (found,) = [w for w in body["widgets"] if w["properties"].get("title", "").startswith(title_start)]
    return found


def test_the_alarm_states_come_first_across_the_whole_width():
    first = dashboard_body(targets())["widgets"][0]
    assert first["type"] == "alarm" and (first["x"], first["y"], first["width"]) == (0, 0, 2 * WIDTH)
    assert first["properties"]["alarms"] == sorted(targets().alarm_arns)


def test_widgets_tile_the_grid_without_overlapping():
    cells: set[tuple[int, int]] = set()
    for w in dashboard_body(targets())["widgets"]:
        assert w["x"] >= 0 and w["x"] + w["width"] <= 24 and w["height"] > 0, w
        area = {(x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])}
        assert not cells & area, w["properties"].get("title")
        cells |= area


def test_lag_and_duration_show_the_lines_that_matter():
    body = dashboard_body(targets())
    lag = widget(body, "Stream lag")["properties"]
    assert lag["stat"] == "Maximum" and lag["metrics"] == [["AWS/Lambda", "IteratorAge", "FunctionName", "fn"]]
    assert lag["annotations"]["horizontal"] == [{"label": "iterator-age alarm", "value": 345_000}]
    duration = widget(body, "Duration")["properties"]
    assert duration["annotations"]["horizontal"] == [{"label": "timeout", "value": 45_000}]
    assert [row[-1]["stat"] for row in duration["metrics"]] == ["Average", "p99", "Maximum"]


def test_invocations_widget():
    rows = widget(dashboard_body(targets()), "Invocations")["properties"]["metrics"]
    assert rows == [
        ["AWS/Lambda", name, "FunctionName", "fn"]
        for name in ("Invocations", "Errors", "Throttles", "DestinationDeliveryFailures")
    ]


@pytest.mark.parametrize(
    ("title", "counters"),
    [
        ("Records handled", ("records", "writes", "duplicates_skipped")),
        ("Records not applied", ("failed_records", "quarantined", "ordering_violations", "stale_stream_records")),
        ("Contention", ("transaction_conflicts", "conditional_retries")),
    ],
)
def test_handler_metric_widgets(title, counters):
    properties = widget(dashboard_body(targets()), title)["properties"]
    assert properties["stat"] == "Sum"
    assert properties["metrics"] == [[NAMESPACE, METRIC_NAMES[c], DIMENSION, "orders"] for c in counters]


def test_queue_widget_shows_depth_and_oldest_age_of_both_queues():
    rows = widget(dashboard_body(targets()), "Queues")["properties"]["metrics"]
    assert [(row[1], row[3], row[4].get("yAxis", "left")) for row in rows] == [
        ("ApproximateNumberOfMessagesVisible", "failures-q", "left"),
        ("ApproximateAgeOfOldestMessage", "failures-q", "right"),
        ("ApproximateNumberOfMessagesVisible", "quarantine-q", "left"),
        ("ApproximateAgeOfOldestMessage", "quarantine-q", "right"),
    ]


@pytest.mark.parametrize(("ledger", "tables"), [("ledger-t", ["aggregate-t", "ledger-t"]), (None, ["aggregate-t"])])
def test_table_widget_shows_throttles_and_write_units(ledger, tables):
    rows = widget(dashboard_body(targets(ledger)), "Table writes")["properties"]["metrics"]
    assert [(row[1], row[3]) for row in rows] == [("WriteThrottleEvents", t) for t in tables] + [
        ("ConsumedWriteCapacityUnits", t) for t in tables
    ]


def test_every_graph_names_the_region_and_the_failure_log_its_log_group():
    body = dashboard_body(targets())
    for w in body["widgets"][1:]:
        assert w["properties"]["region"] == "eu-west-1", w["properties"]["title"]
    log = body["widgets"][-1]
    assert log["type"] == "log" and log["width"] == 2 * WIDTH
    query = log["properties"]["query"]
    assert query.startswith("SOURCE 'logs' |")
    assert f'filter level = "ERROR" or {METRIC_NAMES["failed_records"]} > 0' in query


def test_dashboard_names_keep_to_what_cloudwatch_allows():
    assert dashboard_name("stream-aggregator", "prod", "invoices") == "stream-aggregator-prod-invoices"
    assert re.fullmatch(r"p-team-dev-orders-v2-[0-9a-f]{8}", dashboard_name("p", "team/dev", "orders v2"))
    assert len(dashboard_name("p", "s", "x" * 400)) == 255


def test_dashboard_names_that_had_to_change_stay_apart():
    """PutDashboard replaces a dashboard of the same name: two stacks must never derive one name."""
    changed = [("p", "dev.eu", "orders"), ("p", "dev-eu", "orders"), ("p", "dev eu", "orders"), ("p.q", "s", "o")]
    long = [("p", "s", "x" * 300 + tail) for tail in ("a", "b")]
    names = [dashboard_name(*parts) for parts in changed + long + [("p-q", "s", "o")]]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", name) for name in names)


def test_region_of():
    assert region_of("arn:aws:lambda:eu-west-1:123456789012:function:fn") == "eu-west-1"
    with pytest.raises(StreamAggregatorError, match="not a regional ARN"):
        region_of("arn:aws:iam::123456789012:role/r")
