"""Structured logs and CloudWatch Embedded Metric Format, on stdout.

One JSON line per invocation is both the summary log and the metrics: CloudWatch extracts the
counters named under ``_aws`` as metrics, and Logs Insights can query every field. Records are
never logged whole (they may carry personal data); only keys' tokens and sequence numbers.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol

NAMESPACE = "StreamAggregator"
DIMENSION = "Aggregator"
"""The one dimension of every metric; its value is the component's name (``AGGREGATOR_NAME``)."""


class Writer(Protocol):
    """Where summary lines go: stdout in Lambda, any stream locally."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


@dataclass
class BatchCounters:
    records: int = 0
    keys: int = 0
    writes: int = 0
    duplicates_skipped: int = 0
    quarantined: int = 0
    failed_records: int = 0
    ordering_violations: int = 0
    conditional_retries: int = 0
    transaction_conflicts: int = 0
    stale_stream_records: int = 0
    ttl_deletes_ignored: int = 0


METRIC_NAMES = {
    "records": "Records",
    "keys": "AggregateKeys",
    "writes": "AggregateWrites",
    "duplicates_skipped": "DuplicatesSkipped",
    "quarantined": "QuarantinedRecords",
    "failed_records": "FailedRecords",
    "ordering_violations": "OrderingViolations",
    "conditional_retries": "ConditionalRetries",
    "transaction_conflicts": "TransactionConflicts",
    "stale_stream_records": "StaleStreamRecords",
    "ttl_deletes_ignored": "TtlDeletesIgnored",
}
"""Each counter's metric name. The component's alarms and dashboard read these, so a rename here
moves them too instead of leaving them watching a metric nobody emits."""


def summary_line(counters: BatchCounters, aggregator: str, extra: dict[str, Any], now: float | None = None) -> str:
    """The invocation's summary as one EMF document."""
    stamp = int((time.time() if now is None else now) * 1000)
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": stamp,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in METRIC_NAMES.values()],
                }
            ],
        },
        "level": "INFO",
        "message": "batch processed",
        DIMENSION: aggregator,
        **extra,
    }
    for field, name in METRIC_NAMES.items():
        document[name] = getattr(counters, field)
    return json.dumps(document, separators=(",", ":"))


def log(level: str, message: str, stream: Writer | None = None, **fields: Any) -> None:
    """One JSON log line."""
    emit(json.dumps({"level": level, "message": message, **fields}, default=str, separators=(",", ":")), stream)


def emit(line: str, stream: Writer | None = None) -> None:
    """The one way the handler writes a line: its logs and its metrics take the same path.

    On stdout in Lambda, where CloudWatch Logs keeps a printed line as it is (so the JSON stays
    JSON, even with the function's JSON log format) and extracts the EMF metrics from it; locally,
    any stream. ``sys.stdout`` is looked up at each call, so a redirected stdout is honoured.
    """
    print(line, file=stream or sys.stdout, flush=True)
