"""The component's alarms as data: what each one watches, when it fires, and why those numbers.

The rule behind every number: one retry pages nobody.

- A metric that a retry can move (an invocation that failed, a throttle, a record reported failed,
  a throttled write, a lag that one slow batch explains) fires only when it stays up: above its
  threshold in 3 of the last 5 one-minute periods. One transient fault is one failed invocation,
  one datapoint (two if it straddles a minute boundary); a fault that persists shows in every
  minute, because Lambda keeps redelivering the same records until they succeed or go to the
  failure queue.
- Something no retry can cause (a batch the mapping gave up on, a record out of its item's order,
  a record from an older stream, a batch description Lambda could not deliver, bad data) fires on
  its first datapoint: each one means records that were not applied, or not applied yet.

Pure: nothing here calls Pulumi. ``components/monitoring.py`` turns these into MetricAlarms,
filling each ``Watched`` with its resource's name. docs/runbook.md explains each alarm by role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from ._lambda_code import DIMENSION, METRIC_NAMES, NAMESPACE

PERIOD_SECONDS = 60
SUSTAINED = (3, 5)
"""(datapoints to alarm, evaluation periods) for metrics a retry can move."""
AT_ONCE = (1, 1)
"""The same, for what no retry can cause."""
LAG_BUDGET_SECONDS = 300
"""How far behind the stream may fall beyond what one retried batch explains."""
MAX_DESCRIPTION = 255
"""Older CloudWatch API versions cap AlarmDescription at 255 characters; staying under it keeps the
descriptions whole in every client and notification."""


class Watched(Enum):
    """Whose metric an alarm reads; the component supplies each one's name."""

    FUNCTION = "function"
    AGGREGATOR = "aggregator"
    FAILURE_QUEUE = "failure queue"
    QUARANTINE_QUEUE = "quarantine queue"
    AGGREGATE_TABLE = "aggregate table"
    LEDGER_TABLE = "ledger table"
    EXTREMES_TABLE = "extremes table"

    @property
    def dimension(self) -> str:
        """The CloudWatch dimension its name goes in."""
        return _DIMENSIONS[self]


_DIMENSIONS = {
    Watched.FUNCTION: "FunctionName",
    Watched.AGGREGATOR: DIMENSION,
    Watched.FAILURE_QUEUE: "QueueName",
    Watched.QUARANTINE_QUEUE: "QueueName",
    Watched.AGGREGATE_TABLE: "TableName",
    Watched.LEDGER_TABLE: "TableName",
    Watched.EXTREMES_TABLE: "TableName",
}


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: ``<component name>-<role>``, firing when ``statistic`` of ``metric`` exceeds
    ``threshold`` in ``datapoints`` of the last ``evaluation_periods`` minutes."""

    role: str
    namespace: str
    metric: str
    statistic: str
    watched: Watched
    threshold: float
    datapoints: int
    evaluation_periods: int
    description: str

    def dimensions(self, names: Mapping[Watched, str]) -> dict[str, str]:
        return {self.watched.dimension: names[self.watched]}

    @property
    def fills_gaps(self) -> bool:
        """Whether the alarm must read ``FILL(metric, 0)`` instead of the metric itself.

        Alarms on AWS/DynamoDB metrics ignore missing data whatever ``TreatMissingData`` says
        (CloudWatch's PutMetricAlarm reference), and WriteThrottleEvents has datapoints only while
        writes are throttled: the alarm would stay in ALARM after the throttling ended. Filled with
        zeros, the minutes after the last throttle count as not breaching, so the alarm returns to
        OK within three minutes, while that last datapoint is still inside its five-minute window.
        """
        return self.namespace == "AWS/DynamoDB"


def _alarm(
    role: str,
    namespace: str,
    metric: str,
    watched: Watched,
    description: str,
    window: tuple[int, int],
    statistic: str = "Sum",
    threshold: float = 0,
) -> AlarmSpec:
    datapoints, periods = window
    return AlarmSpec(role, namespace, metric, statistic, watched, threshold, datapoints, periods, description)


def iterator_age_threshold_ms(timeout_seconds: float, batching_window_seconds: float) -> int:
    """Lag that one retry cannot explain: a retried batch waits for at most one timeout and one
    batching window, so the budget starts above that."""
    return int(LAG_BUDGET_SECONDS + timeout_seconds + batching_window_seconds) * 1000


def _emitted(counter: str) -> str:
    """A handler counter's metric name, as the handler emits it (KeyError if it was renamed)."""
    return METRIC_NAMES[counter]


def alarm_specs(
    timeout_seconds: float, batching_window_seconds: float, ledger: bool, extremes: bool = False
) -> list[AlarmSpec]:
    """Every alarm of one component; the ledger's and the extremes table's only when it has them."""
    lag_ms = iterator_age_threshold_ms(timeout_seconds, batching_window_seconds)
    lag = f"{lag_ms // 60_000} min {lag_ms // 1000 % 60} s" if lag_ms % 60_000 else f"{lag_ms // 60_000} min"
    specs = [
        _alarm(
            "iterator-age",
            "AWS/Lambda",
            "IteratorAge",
            Watched.FUNCTION,
            f"The mapping is over {lag} behind the stream in 3 of 5 minutes: aggregates are stale. "
            "Look at Errors, Throttles and Duration on the dashboard. Runbook: Alarms.",
            SUSTAINED,
            statistic="Maximum",
            threshold=lag_ms,
        ),
        _alarm(
            "errors",
            "AWS/Lambda",
            "Errors",
            Watched.FUNCTION,
            "Invocations failed whole (crash, timeout, wrong event) in 3 of 5 minutes; the batch is "
            "retried. Read the function's log group for the error. Runbook: Alarms.",
            SUSTAINED,
        ),
        _alarm(
            "partial-failures",
            NAMESPACE,
            _emitted("failed_records"),
            Watched.AGGREGATOR,
            "Records reported failed (FailedRecords) in 3 of 5 minutes: the invocation succeeds, Lambda "
            "retries them, they fail again. Read firstError on the summary lines. Runbook: Alarms.",
            SUSTAINED,
        ),
        _alarm(
            "throttles",
            "AWS/Lambda",
            "Throttles",
            Watched.FUNCTION,
            "Lambda refused invocations for lack of concurrency in 3 of 5 minutes; the stream falls "
            "behind. Check the account's and the function's concurrency. Runbook: Alarms.",
            SUSTAINED,
        ),
        _alarm(
            "aggregate-throttles",
            "AWS/DynamoDB",
            "WriteThrottleEvents",
            Watched.AGGREGATE_TABLE,
            "DynamoDB throttled writes to the aggregate table in 3 of 5 minutes (a hot key or a burst); "
            "they are retried but the stream slows. Runbook: Alarms.",
            SUSTAINED,
        ),
        _alarm(
            "ordering-violations",
            NAMESPACE,
            _emitted("ordering_violations"),
            Watched.AGGREGATOR,
            "A record came out of its item's order inside a batch (OrderingViolations). It was not "
            "applied and is in the quarantine queue: reconcile its key. Runbook: Alarms.",
            AT_ONCE,
        ),
        _alarm(
            "stale-stream",
            NAMESPACE,
            _emitted("stale_stream_records"),
            Watched.AGGREGATOR,
            "A record of an older stream came after the newer stream's (StaleStreamRecords): the "
            "stream was disabled and enabled. It is quarantined: reconcile its key. Runbook: Alarms.",
            AT_ONCE,
        ),
        _alarm(
            "destination-failures",
            "AWS/Lambda",
            "DestinationDeliveryFailures",
            Watched.FUNCTION,
            "Lambda gave up on a batch and could not send its description to the failure queue: "
            "records were not applied and nothing says which. Reconcile. Runbook: Alarms.",
            AT_ONCE,
        ),
        _alarm(
            "failures-depth",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            Watched.FAILURE_QUEUE,
            "The mapping gave up on a batch: its records were not applied. The message names the shard "
            "and sequence range; read them within 24 h. Runbook: The failure queue.",
            AT_ONCE,
            statistic="Maximum",
        ),
        _alarm(
            "quarantine-depth",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            Watched.QUARANTINE_QUEUE,
            "Records with bad data were quarantined, each whole with its reason. Fix the source item, "
            "then delete the message. Runbook: The quarantine queue.",
            AT_ONCE,
            statistic="Maximum",
        ),
    ]
    if ledger:
        specs.append(
            _alarm(
                "ledger-throttles",
                "AWS/DynamoDB",
                "WriteThrottleEvents",
                Watched.LEDGER_TABLE,
                "DynamoDB throttled writes to the ledger table in 3 of 5 minutes; transactions are retried "
                "but the stream slows. Runbook: Alarms.",
                SUSTAINED,
            )
        )
    if extremes:
        specs.append(
            _alarm(
                "extremes-throttles",
                "AWS/DynamoDB",
                "WriteThrottleEvents",
                Watched.EXTREMES_TABLE,
                "DynamoDB throttled writes to the extremes table (min/max entries) in 3 of 5 minutes; "
                "transactions are retried but the stream slows. Runbook: Alarms.",
                SUSTAINED,
            )
        )
    return specs
